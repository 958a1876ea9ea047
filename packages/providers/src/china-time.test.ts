import { chinaDateTime, chinaRfc3339, parseChinaDateTime, parseRfc3339 } from './china-time';

describe('China time', () => {
  it('writes an instant as Beijing wall time, to the second', () => {
    const at = new Date('2026-12-01T17:59:59.999Z');
    expect(chinaDateTime(at)).toBe('2026-12-02 01:59:59');
    expect(chinaRfc3339(at)).toBe('2026-12-02T01:59:59+08:00');
  });

  it('reads it back to the same second', () => {
    expect(parseChinaDateTime('2026-12-02 01:59:59').toISOString()).toBe('2026-12-01T17:59:59.000Z');
  });

  it.each(['2026-12-02T01:59:59', '2026-12-02 1:59:59', '2026-13-02 01:59:59', ''])('refuses "%s"', (text) =>
    expect(() => parseChinaDateTime(text)).toThrow(RangeError),
  );

  it('reads RFC 3339 with its offset, as WeChat Pay writes it', () => {
    expect(parseRfc3339('2026-12-02T01:59:59+08:00').toISOString()).toBe('2026-12-01T17:59:59.000Z');
    expect(parseRfc3339(chinaRfc3339(new Date('2026-12-01T17:59:59Z'))).toISOString()).toBe(
      '2026-12-01T17:59:59.000Z',
    );
  });

  it.each(['2026-12-02T01:59:59', '2026-12-02 01:59:59+08:00', '2026-12-32T01:59:59+08:00', ''])(
    'refuses "%s" as RFC 3339',
    (text) => expect(() => parseRfc3339(text)).toThrow(RangeError),
  );
});
