/** The stack the demo drives: the one at the configured URLs if it answers, else its own with short schedules. */
import type { ChildProcess } from 'node:child_process';
import { requireSettings, type Given } from '@payments/platform';
import { migrate } from '@payments/core';
import { loadConfigOrExit, type ProvidersConfig } from '@payments/providers';
import { ensureInfrastructure } from '../infra';
import { localSandboxUrls, withSandboxDefaults } from '../lib/sandbox-env';
import { answers, PARTS, startPart, stopAll, waitFor } from '../lib/processes';

export const DEMO_SCHEDULES = {
  POLL_SCHEDULE: '1s,2s,3s',
  NOTIFY_SCHEDULE: '2s,3s,5s,5s,10s',
  REFUND_POLL_SCHEDULE: '1s,2s,3s',
  SWEEP_INTERVAL: '5s',
  // An open breaker defers notifications without calling; its trial call must come well within the schedule.
  BREAKER_RESET: '2s',
  // Alipay's and WeChat Pay's notification retries a hundredfold faster (Alipay 2.4 s, 6 s, ...;
  // WeChat Pay 150 ms, 150 ms, 300 ms, 1.8 s, ...), WeChat Pay's refunds settled in 30 ms.
  SANDBOX_NOTIFY_TIME_SCALE: '0.01',
  LOG_LEVEL: 'warn',
};

/** The demo drives the sandboxes: every provider's address is known. */
export type DemoConfig = Given<
  ProvidersConfig,
  'PSP_BASE_URL' | 'ALIPAY_ENDPOINT' | 'WECHATPAY_BASE_URL' | 'STRIPE_API_BASE'
>;

/** The configuration, with the local sandboxes' settings for every provider the environment leaves unset. */
export function demoConfig(env: Record<string, string | undefined>): {
  env: Record<string, string | undefined>;
  config: DemoConfig;
} {
  const full = withSandboxDefaults(env, localSandboxUrls(env));
  const config = requireSettings(
    loadConfigOrExit(full),
    ['PSP_BASE_URL', 'ALIPAY_ENDPOINT', 'WECHATPAY_BASE_URL', 'STRIPE_API_BASE'],
    'the demo',
  );
  return { env: full, config };
}

export const say = (line: string) => process.stdout.write(`${line}\n`);

export function gatewayUrl(config: DemoConfig): string {
  return `http://127.0.0.1:${config.GATEWAY_PORT}`;
}

/** The WeChat Pay sandbox's own address (the API base without its trailing slash). */
export function wechatpayUrl(config: DemoConfig): string {
  return config.WECHATPAY_BASE_URL.replace(/\/+$/, '');
}

export async function stackAnswers(config: DemoConfig): Promise<boolean> {
  const checks = await Promise.all([
    answers(`${gatewayUrl(config)}/readyz`),
    answers(`${config.PSP_BASE_URL}/healthz`),
    answers(`${config.ORDER_SERVICE_URL}/healthz`),
    answers(`${config.ALIPAY_ENDPOINT}/healthz`),
    answers(`${wechatpayUrl(config)}/healthz`),
    answers(`${config.STRIPE_API_BASE}/healthz`),
    // Every worker kind (poller, notifier, refunder) on its default metrics port.
    ...(config.METRICS_PORT === undefined ? [9102, 9103, 9104] : [config.METRICS_PORT]).map((port) =>
      answers(`http://127.0.0.1:${port}/healthz`),
    ),
  ]);
  return checks.every(Boolean);
}

export async function startOwnStack(
  config: DemoConfig,
): Promise<{ config: DemoConfig; children: ChildProcess[] }> {
  say('No running stack answered; starting one for the demo (short schedules)…');
  await ensureInfrastructure(config);
  await migrate(config.DATABASE_URL);
  const { env, config: ownConfig } = demoConfig({ ...process.env, ...DEMO_SCHEDULES });
  const children = PARTS.flatMap((part) => {
    const child = startPart(
      part,
      env,
      process.env.DEMO_VERBOSE ? (line) => process.stderr.write(`${line}\n`) : undefined,
    );
    return child ? [child] : [];
  });
  const ready = await Promise.all([
    waitFor(`${gatewayUrl(ownConfig)}/readyz`, 60),
    waitFor(`${ownConfig.PSP_BASE_URL}/healthz`, 60),
    waitFor(`${ownConfig.ALIPAY_ENDPOINT}/healthz`, 60),
    waitFor(`${wechatpayUrl(ownConfig)}/healthz`, 60),
    waitFor(`${ownConfig.STRIPE_API_BASE}/healthz`, 60),
    waitFor(`${ownConfig.ORDER_SERVICE_URL}/healthz`, 60),
    waitFor('http://127.0.0.1:9102/readyz', 60),
    waitFor('http://127.0.0.1:9103/readyz', 60),
    waitFor('http://127.0.0.1:9104/readyz', 60),
  ]);
  if (!ready.every(Boolean)) {
    await stopAll(children);
    throw new Error('the stack did not come up (run with DEMO_VERBOSE=1 to see its logs)');
  }
  return { config: ownConfig, children };
}
