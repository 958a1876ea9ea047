import { applyOverHttp, closeOrders } from '../apply';
import type { CpuReport } from '../cpu';
import { msPer } from '../measure';
import { scaled } from '../settings';
import { round } from '../stats';
import type { HttpApplies } from './apply';
import type { RowContext } from './context';

const PROVIDER_ROWS = [
  {
    key: 'applyHttpAlipay',
    channel: 'alipay-qr',
    label: 'ali',
    sandbox: 'sandboxAlipay',
    note: 'gateway CPU per apply includes RSA2 signing of the precreate and verification of the answer',
  },
  {
    key: 'applyHttpWechatpay',
    channel: 'wechat-native',
    label: 'wx',
    sandbox: 'sandboxWechatpay',
    note: 'gateway CPU per apply includes signing the order request and verifying the signed answer (RSA-SHA256 both)',
  },
  {
    key: 'applyHttpStripe',
    channel: 'stripe-card',
    label: 'st',
    sandbox: 'sandboxStripe',
    note: 'the stripe SDK builds and sends a form-encoded Checkout Session create per apply; no signatures either way (TLS is their proof, not run here)',
  },
] as const;

/**
 * Apply over HTTP through each real provider's SDK, against its sandbox (its own process), side by
 * side with the sandbox PSP's applies. Run last, because Alipay's attempts stay in flight until
 * they expire (an unscanned Alipay trade cannot be closed), and their polls must not load the
 * phases before.
 */
export async function measureProviders(
  { stack, m, result }: RowContext,
  applyHttp: HttpApplies,
  applyHttpCpu: CpuReport,
): Promise<void> {
  const sandboxCreated = Number(applyHttp.figures.created201);
  for (const row of PROVIDER_ROWS) {
    const { value: applied, cpu } = await m.measured(`apply over HTTP, ${row.channel}`, 90_000, () =>
      applyOverHttp(stack, scaled(300), 64, row.label, row.channel),
    );
    const created = Number(applied.figures.created201);
    m.perOperation(`apply over HTTP, ${row.channel} (per apply)`, cpu, created);
    result[row.key] = {
      ...applied.figures,
      cpu,
      gatewayCpuMsPerApply: msPer(cpu, 'payment-gateway', created),
      sandboxGatewayCpuMsPerApply: msPer(applyHttpCpu, 'payment-gateway', sandboxCreated),
      providerCpuMsPerApply: msPer(cpu, row.sandbox, created),
      ratioToSandboxApplies: round(applied.perSecond / applyHttp.perSecond, 3),
      note: `side by side with applyHttp in the same run; ${row.note}`,
    };
    await m.phase(`close the ${row.channel} phase orders (unmeasured)`, 90_000, () =>
      closeOrders(stack, applied.merchantOrderNos),
    );
  }
}
