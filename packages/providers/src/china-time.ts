/**
 * Times as Chinese providers write them: China Standard Time, UTC+8 all year (no daylight saving),
 * so a fixed offset is exact. Alipay writes `yyyy-MM-dd HH:mm:ss`; WeChat Pay RFC 3339 with `+08:00`.
 */
const CHINA_OFFSET_MS = 8 * 3600_000;

/** `2026-12-01T02:03:04.567Z` → `2026-12-01 10:03:04` (seconds: the fraction is dropped). */
export function chinaDateTime(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** `2026-12-01T02:03:04.567Z` → `2026-12-01T10:03:04+08:00`. */
export function chinaRfc3339(at: Date): string {
  return `${new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** `2026-12-01 10:03:04` (China time) → the instant; refuses any other shape. */
export function parseChinaDateTime(text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text))
    throw new RangeError(`not a China time: "${text}"`);
  const at = new Date(`${text.replace(' ', 'T')}+08:00`);
  if (Number.isNaN(at.getTime())) throw new RangeError(`not a China time: "${text}"`);
  return at;
}

/** An RFC 3339 time with its offset (`2026-12-01T10:03:04+08:00`) → the instant; refuses any other shape. */
export function parseRfc3339(text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text))
    throw new RangeError(`not an RFC 3339 time: "${text}"`);
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new RangeError(`not an RFC 3339 time: "${text}"`);
  return at;
}
