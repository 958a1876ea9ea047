/**
 * Every provider's sandbox, one line each: what the test stacks start in-process, what `npm run up`
 * starts as processes, and where each points the gateway's provider (its settings, with the
 * sandbox's published TEST-ONLY keys). A new provider's sandbox is its folder and one line here.
 */
import type { SandboxEntry } from '@payments/sandbox-kit';
import { alipaySandbox } from './alipay/src/entry';
import { pspSandbox } from './psp/src/entry';
import { stripeSandbox } from './stripe/src/entry';
import { wechatpaySandbox } from './wechatpay/src/entry';

export const SANDBOXES = {
  psp: pspSandbox,
  alipay: alipaySandbox,
  wechatpay: wechatpaySandbox,
  stripe: stripeSandbox,
} as const satisfies Record<string, SandboxEntry>;

/** The sandbox providers: the PSP (sandbox channels), Alipay, WeChat Pay, Stripe. */
export type SandboxKind = keyof typeof SANDBOXES;

export const SANDBOX_KINDS = Object.keys(SANDBOXES) as SandboxKind[];
