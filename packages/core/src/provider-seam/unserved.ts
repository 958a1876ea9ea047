import type { HandlerResult, Logger } from '@payments/platform';

/**
 * A poll, close or refund for a channel this process has no provider for (issue 27.3): its money is
 * still at the provider, so the message is never dead-lettered. It comes back after the longest
 * retry delay, keeping its place (its headers), and says so loudly each time, until the channel's
 * settings are given and the service restarted.
 */
export function waitForUnservedChannel(
  log: Logger,
  channel: string,
  about: Record<string, unknown>,
  retrySchedule: readonly number[],
): HandlerResult {
  const delayMs = retrySchedule[retrySchedule.length - 1] ?? 60_000;
  log.error(
    { ...about, channel, delayMs },
    `channel ${channel} is not configured here: its money waits; give its provider's settings and restart`,
  );
  return { reschedule: { delayMs } };
}
