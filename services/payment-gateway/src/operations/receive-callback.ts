import { errorMessage, NotifyRejectedError, settleAttempt } from '@payments/common';
import type { GatewayDeps } from '../deps';

export interface CallbackAnswer {
  status: number;
  body: unknown;
}

/**
 * A provider callback is a hint (DESIGN rule 3): verify it, check it against the attempt, record
 * it raw, then settle through the same function the poller uses. Success is answered only after
 * the settlement committed; repeats are no-ops answered with success.
 */
export async function receiveCallback(
  deps: GatewayDeps,
  channelName: string,
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
): Promise<CallbackAnswer> {
  const signatureHeader = headers['x-sandbox-signature'];
  const signature = Array.isArray(signatureHeader) ? (signatureHeader[0] ?? null) : (signatureHeader ?? null);
  const countCallback = (outcome: string) =>
    deps.metrics.callbacks.inc({
      channel: deps.channels.has(channelName) ? channelName : 'unknown',
      result: outcome,
    });
  const record = async (
    outcome: string,
    channelOrderNo: string | null,
    verified: boolean,
    detail?: string,
  ) => {
    countCallback(outcome);
    await deps.repository.recordCallback({
      channel: channelName,
      channelOrderNo,
      signature,
      rawBody,
      verified,
      outcome,
      detail,
    });
  };
  const refuse = async (
    status: number,
    code: string,
    message: string,
    channelOrderNo: string | null = null,
    verified = true,
  ) => {
    await record(code, channelOrderNo, verified, message);
    return { status, body: { error: { code, message } } };
  };

  const channel = deps.channels.get(channelName);
  if (!channel)
    return refuse(
      404,
      'UNKNOWN_CHANNEL',
      `unknown channel "${channelName}"`,
      claimedChannelOrderNo(rawBody),
      false,
    );
  let notification;
  try {
    notification = channel.parseNotification(rawBody, headers);
  } catch (error) {
    if (error instanceof NotifyRejectedError) {
      const code = error.status === 401 ? 'BAD_SIGNATURE' : 'VALIDATION_FAILED';
      return refuse(error.status, code, error.message, claimedChannelOrderNo(rawBody), false);
    }
    throw error;
  }
  const { channelOrderNo, outcome } = notification;
  const attempt = await deps.repository.findAttempt(channelOrderNo);
  if (!attempt) return refuse(404, 'UNKNOWN_ATTEMPT', `no attempt ${channelOrderNo}`, channelOrderNo);
  if (attempt.channel !== channel.name) {
    return refuse(
      400,
      'CHANNEL_MISMATCH',
      `attempt ${channelOrderNo} belongs to ${attempt.channel}`,
      channelOrderNo,
    );
  }
  if (
    outcome.status === 'SUCCESS' &&
    (outcome.amount !== Number(attempt.amount) || outcome.currency !== attempt.currency)
  ) {
    deps.log.error(
      {
        channelOrderNo,
        expected: `${attempt.amount} ${attempt.currency}`,
        got: `${outcome.amount} ${outcome.currency}`,
      },
      'callback amount anomaly',
    );
    return refuse(
      400,
      'AMOUNT_MISMATCH',
      `callback says ${outcome.amount} ${outcome.currency}, attempt is ${attempt.amount} ${attempt.currency}`,
      channelOrderNo,
    );
  }
  let result;
  try {
    // The raw callback is recorded in the settlement's own transaction: one commit for both.
    result = await settleAttempt(deps.dataSource, channelOrderNo, outcome, {
      alsoWrite: (manager, settlement) =>
        deps.repository.recordCallback(
          {
            channel: channelName,
            channelOrderNo,
            signature,
            rawBody,
            verified: true,
            outcome: settlement.kind,
          },
          manager,
        ),
      publishAfterCommit: true,
    });
  } catch (error) {
    deps.log.warn(
      { channelOrderNo, err: errorMessage(error) },
      'callback not settled; the provider will retry',
    );
    throw error;
  }
  deps.metrics.observeSettlement(result);
  deps.relay.publishCommitted(result?.events ?? []);
  if (result) countCallback(result.settlement.kind);
  // Gone between the two reads (never in practice: attempts are not deleted): still on record.
  else await record('UNKNOWN_ATTEMPT', channelOrderNo, true);
  return { status: 200, body: { code: 'SUCCESS' } };
}

/** The attempt an unverified callback claims to be about: for the log only, never trusted. */
function claimedChannelOrderNo(rawBody: string): string | null {
  try {
    const value = (JSON.parse(rawBody) as { channelOrderNo?: unknown }).channelOrderNo;
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}
