import { createHash } from 'node:crypto';
import type { Statement } from '@payments/platform';

/** Characters of an unverified callback's body kept in the callback log. */
export const UNVERIFIED_BODY_PREFIX = 1024;

export interface CallbackEntry {
  channel: string;
  channelOrderNo: string | null;
  signature: string | null;
  rawBody: string;
  verified: boolean;
  outcome: string;
  detail?: string;
}

/**
 * The INSERT of a callback into the callback log, raw (a statement of its own, or one of a
 * settlement's writes). One that failed verification is anybody's bytes: only a bounded prefix is
 * kept, with the whole body's SHA-256 and size, so a stranger cannot fill the table.
 */
export function callbackInsert(entry: CallbackEntry): Statement {
  const bytes = Buffer.from(entry.rawBody, 'utf8');
  return {
    sql: `INSERT INTO callback_log (channel, channel_order_no, signature, raw_body, body_sha256, body_bytes, outcome, detail)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    params: [
      entry.channel.slice(0, 32),
      entry.channelOrderNo?.slice(0, 64) ?? null,
      entry.signature?.slice(0, entry.verified ? 1024 : 256) ?? null,
      entry.verified ? entry.rawBody : entry.rawBody.slice(0, UNVERIFIED_BODY_PREFIX),
      createHash('sha256').update(bytes).digest('hex'),
      bytes.length,
      entry.outcome,
      entry.detail?.slice(0, 512) ?? null,
    ],
  };
}
