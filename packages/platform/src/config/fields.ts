/** Building blocks of the configuration schema, shared by CONTRACT 2's variables and each provider's section. */
import { z } from 'zod';
import { parseDuration, parseSchedule } from './durations';

/** What a field's schema says about it beyond its type. */
export interface FieldMeta {
  /** Never shown: the logger prints it as `[redacted]` (`SECRET_CONFIG_NAMES`). */
  secret?: boolean;
  /** May be given as a path in `<NAME>_FILE` instead (PEM keys). */
  file?: boolean;
}

/** The schema of a field knows whether it is a secret; nothing keeps a list of names beside it. */
export const fieldMeta = z.registry<FieldMeta>();

/** Text with a default, turned into a value by `parse`; what `parse` throws becomes the field's issue. */
const parsedText = <T>(fallback: string, parse: (text: string) => T) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

export const duration = (fallback: string) => parsedText(fallback, parseDuration);
export const schedule = (fallback: string) => parsedText(fallback, parseSchedule);

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const url = (fallback: string) => z.url().default(fallback);

/** `a, b,c` → `['a', 'b', 'c']`, refusing an empty list. */
export const commaList = (fallback: string, emptyMessage: string) =>
  z
    .string()
    .default(fallback)
    .transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .refine((items) => items.length > 0, emptyMessage);

export const minorUnits = (fallback: number) => z.coerce.number().int().min(0).max(1e15).default(fallback);

/** A secret string: redacted wherever the configuration is described. */
export function secret(fallback: string) {
  return z.string().min(1).default(fallback).register(fieldMeta, { secret: true });
}

/** A secret with no default: unset unless given. */
export function optionalSecret() {
  return z.string().min(1).optional().register(fieldMeta, { secret: true });
}

/**
 * PEM key text: literal `\n` (one-line environment values) become newlines; `<NAME>_FILE` may name
 * a file holding it instead. Whether the key parses is checked by the provider that uses it.
 */
export function keyText(options: { secret: boolean }) {
  return z
    .string()
    .min(1)
    .transform((text) => text.replace(/\\n/g, '\n').trim())
    .optional()
    .register(fieldMeta, { secret: options.secret, file: true });
}
