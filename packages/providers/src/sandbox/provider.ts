import { requireSettings, type Given, verifySignature } from '@payments/platform';
import {
  defineProvider,
  NotifyRejectedError,
  type NotificationAnswer,
  type NotificationRequest,
  type NotificationVerdict,
  type PaymentProvider,
  type ProviderNotification,
  type ProviderKit,
  type StatementSource,
} from '@payments/core';
import { SandboxChannel, sandboxNotifySchema, sandboxOutcome, sandboxProviderCall } from './channel';

import { SandboxStatements } from './statement';
import { pspSection, SANDBOX_CHANNELS, type PspSettings } from './settings';

export { SANDBOX_CHANNELS };

/** Its notifications are signed in CONTRACT 5's format under this header, keyed by PSP_SECRET. */
const SIGNATURE_HEADER = 'x-sandbox-signature';

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The sandbox PSP (CONTRACT 6): one provider, one breaker, three channels, a route per channel. */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  readonly channels: SandboxChannel[];
  readonly notifyRoutes: readonly string[];
  readonly statements: StatementSource;
  private readonly config: Given<PspSettings, 'PSP_BASE_URL' | 'PSP_SECRET'>;

  constructor(given: PspSettings, kit: ProviderKit, channelNames: readonly string[]) {
    const config = requireSettings(given, ['PSP_BASE_URL', 'PSP_SECRET'], 'the sandbox PSP');
    this.config = config;
    // The HTTP call is aborted when the breaker stops waiting for it, so no request outlives the
    // breaker's answer by long; what a timed-out call may still have done is the caller's to handle.
    const breaker = kit.breaker(
      'psp_sandbox',
      sandboxProviderCall(config.PSP_BASE_URL, config.PSP_SECRET, kit.callTimeoutMs),
    );
    this.channels = channelNames.map((name) => new SandboxChannel(name, breaker));
    this.notifyRoutes = channelNames;
    this.statements = new SandboxStatements(config.PSP_BASE_URL, config.PSP_SECRET, kit.callTimeoutMs);
  }

  async verifyNotification(request: NotificationRequest): Promise<ProviderNotification> {
    const rawBody = request.rawBody.toString('utf8');
    const check = verifySignature(
      this.config.PSP_SECRET,
      rawBody,
      headerValue(request.headers[SIGNATURE_HEADER]),
    );
    if (!check.valid) throw new NotifyRejectedError(401, check.reason);
    let body;
    try {
      body = sandboxNotifySchema.parse(JSON.parse(rawBody));
    } catch (error) {
      throw new NotifyRejectedError(400, `unreadable notification: ${(error as Error).message}`);
    }
    return {
      kind: 'payment',
      channelOrderNo: body.channelOrderNo,
      providerTradeNo: null,
      outcome: sandboxOutcome(body),
    };
  }

  describeUnverified(request: NotificationRequest) {
    let claimedReference: string | null = null;
    try {
      const value = (JSON.parse(request.rawBody.toString('utf8')) as { channelOrderNo?: unknown })
        .channelOrderNo;
      if (typeof value === 'string') claimedReference = value;
    } catch {
      // not JSON: nothing claimed
    }
    return { claimedReference, signature: headerValue(request.headers[SIGNATURE_HEADER]) ?? null };
  }

  acknowledge(verdict: NotificationVerdict): NotificationAnswer {
    return verdict.accepted
      ? { status: 200, contentType: 'application/json', body: JSON.stringify({ code: 'SUCCESS' }) }
      : {
          status: verdict.status,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: verdict.code, message: verdict.message } }),
        };
  }
}

/** The registry's entry for the sandbox PSP. */
export const sandboxProvider = defineProvider({
  name: 'sandbox',
  channels: SANDBOX_CHANNELS,
  section: pspSection,
  signatureHeaders: [SIGNATURE_HEADER],
  create: (settings, kit, channels) => new SandboxProvider(settings, kit, channels),
});
