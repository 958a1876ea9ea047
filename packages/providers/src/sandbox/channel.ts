import type CircuitBreaker from 'opossum';
import { z } from 'zod';
import { httpRequest, type HttpResponseText } from '@payments/platform';
import {
  type ProviderOutcome,
  breakerFailure,
  ChannelRejectedError,
  ChannelUnavailableError,
  type AttemptRef,
  type CloseResult,
  type CreatedTrade,
  type CreateTradeRequest,
  type PaymentChannel,
  type ProviderRefundStatus,
  type RefundRequest,
} from '@payments/core';

export interface ProviderResponse {
  status: number;
  body: unknown;
}

/** Sends one HTTP call to the provider; resolves for any answer below 500, throws otherwise. */
export type ProviderCall = (method: string, path: string, body?: unknown) => Promise<ProviderResponse>;

const tradeSchema = z.object({
  channelOrderNo: z.string(),
  tradeNo: z.string().optional(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(['WAITING', 'PAID', 'CLOSED', 'EXPIRED']),
  paidAt: z.string().nullable().optional(),
  payUrl: z.string().optional(),
});
type SandboxTrade = z.infer<typeof tradeSchema>;

const refundSchema = z.object({ refundNo: z.string(), status: z.enum(['PROCESSING', 'SUCCESS', 'FAILED']) });

export const sandboxNotifySchema = z.object({
  channelOrderNo: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(['WAITING', 'PAID', 'CLOSED', 'EXPIRED']),
  paidAt: z.string().nullable().optional(),
});

/** Maps the sandbox's trade status to ours; every provider status is handled. */
export function sandboxOutcome(
  trade: Pick<SandboxTrade, 'status' | 'amount' | 'currency' | 'paidAt'>,
): ProviderOutcome {
  const status = trade.status;
  switch (status) {
    case 'WAITING':
      return { status: 'PAYING' };
    case 'PAID':
      return {
        status: 'SUCCESS',
        amount: trade.amount,
        currency: trade.currency,
        paidAt: new Date(trade.paidAt ?? Date.now()),
      };
    case 'CLOSED':
    case 'EXPIRED': // no longer payable: final
      return { status: 'CLOSED' };
    default: {
      const unknown: never = status;
      throw new Error(`unknown sandbox trade status ${String(unknown)}`);
    }
  }
}

/** Creates the low-level call: HTTP with the PSP's key (wrapped in a breaker by the caller). */
export function sandboxProviderCall(baseUrl: string, secret: string, timeoutMs: number): ProviderCall {
  return async (method, path, body) => {
    let response: HttpResponseText;
    try {
      response = await httpRequest(method, new URL(path, baseUrl), {
        headers: {
          authorization: `Bearer ${secret}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
      });
    } catch (error) {
      throw new ChannelUnavailableError(`provider unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const { status, text } = response;
    if (status >= 500)
      throw new ChannelUnavailableError(`provider answered ${status}: ${text.slice(0, 200)}`);
    return { status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}

function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | undefined)?.error?.code;
}

/** The sandbox PSP's channels (CONTRACT 6): wallet and QR can be closed, the voucher cannot. */
export class SandboxChannel implements PaymentChannel {
  readonly provider = 'sandbox';
  readonly closable: boolean;
  readonly refundable = true;
  readonly findsTradeBy = 'OUR_NUMBER';
  readonly label: string;
  /** Each sandbox channel keeps its own route (CONTRACT 3). */
  readonly notifyRoute: string;

  constructor(
    readonly name: string,
    private readonly breaker: CircuitBreaker<Parameters<ProviderCall>, ProviderResponse>,
  ) {
    this.closable = name !== 'sandbox-voucher';
    this.label =
      {
        'sandbox-wallet': 'Sandbox wallet',
        'sandbox-qr': 'Sandbox QR',
        'sandbox-voucher': 'Sandbox voucher',
      }[name] ?? name;
    this.notifyRoute = name;
  }

  /** The sandbox keeps any ISO 4217 currency in its minor units, as we do. */
  supportsCurrency(): boolean {
    return true;
  }

  private async call(method: string, path: string, body?: unknown): Promise<ProviderResponse> {
    try {
      return await this.breaker.fire(method, path, body);
    } catch (error) {
      throw breakerFailure(error);
    }
  }

  async createTrade(request: CreateTradeRequest): Promise<CreatedTrade> {
    const response = await this.call('POST', '/api/trades', {
      channelOrderNo: request.channelOrderNo,
      merchantOrderNo: request.merchantOrderNo,
      amount: request.money.amount,
      currency: request.money.currency,
      subject: request.subject,
      notifyUrl: request.notifyUrl,
      channel: this.name,
      expireAt: request.expireAt.toISOString(),
    });
    if (response.status !== 200) {
      throw new ChannelRejectedError(
        `provider refused the trade: ${response.status} ${errorCode(response.body) ?? ''}`,
      );
    }
    const trade = tradeSchema.parse(response.body);
    const target = trade.payUrl ?? '';
    return {
      // The QR channel's content is scanned; the wallet and voucher pages are opened.
      payAction:
        this.name === 'sandbox-qr' ? { type: 'qr', content: target } : { type: 'redirect', url: target },
      providerTradeNo: trade.tradeNo ?? null,
    };
  }

  async queryTrade({ channelOrderNo }: AttemptRef): Promise<ProviderOutcome | 'NOT_FOUND'> {
    const response = await this.call('GET', `/api/trades/${encodeURIComponent(channelOrderNo)}`);
    if (response.status === 404) return 'NOT_FOUND';
    if (response.status !== 200) throw new ChannelRejectedError(`trade query refused: ${response.status}`);
    return sandboxOutcome(tradeSchema.parse(response.body));
  }

  async closeTrade({ channelOrderNo }: AttemptRef): Promise<CloseResult> {
    if (!this.closable) return { result: 'NOT_SUPPORTED' };
    const response = await this.call('POST', `/api/trades/${encodeURIComponent(channelOrderNo)}/close`);
    if (response.status === 200) return { result: 'CLOSED' };
    if (response.status === 404) return { result: 'NOT_FOUND' };
    if (response.status === 422) return { result: 'NOT_SUPPORTED' };
    if (response.status === 409 && errorCode(response.body) === 'TRADE_PAID') {
      const trade = tradeSchema.parse((response.body as { trade: unknown }).trade);
      return { result: 'ALREADY_PAID', outcome: sandboxOutcome(trade) };
    }
    throw new ChannelRejectedError(`close refused: ${response.status} ${errorCode(response.body) ?? ''}`);
  }

  async refund(request: RefundRequest): Promise<ProviderRefundStatus> {
    const response = await this.call('POST', '/api/refunds', {
      refundNo: request.refundNo,
      channelOrderNo: request.attempt.channelOrderNo,
      amount: request.money.amount,
    });
    if (response.status !== 200) {
      throw new ChannelRejectedError(`refund refused: ${response.status} ${errorCode(response.body) ?? ''}`);
    }
    return refundSchema.parse(response.body).status;
  }

  async queryRefund(refundNo: string, _attempt?: AttemptRef): Promise<ProviderRefundStatus | 'NOT_FOUND'> {
    const response = await this.call('GET', `/api/refunds/${encodeURIComponent(refundNo)}`);
    if (response.status === 404) return 'NOT_FOUND';
    if (response.status !== 200) throw new ChannelRejectedError(`refund query refused: ${response.status}`);
    return refundSchema.parse(response.body).status;
  }
}
