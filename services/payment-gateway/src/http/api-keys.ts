import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Checks a presented API key against every configured one in constant time: each comparison is
 * of two SHA-256 digests (equal lengths whatever was sent), and every key is compared, a match
 * or not, so neither the time nor the loop reveals how much of a key was right or which one.
 */
export function apiKeyChecker(keys: readonly string[]): (presented: string) => boolean {
  const known = keys.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    let match = false;
    for (const key of known) match = timingSafeEqual(key, candidate) || match;
    return match && presented.length > 0;
  };
}
