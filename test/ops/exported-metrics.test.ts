import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GatewayStack } from '../support/stack';
import { dashboardQueries, metricNames } from './promql';

/**
 * The dashboard and the alert rules name only metrics the services really export: the four services
 * started in-process against the real servers, each scraped on its ops port, and the metric families of
 * their /metrics (a histogram as its _bucket, _sum and _count series) compared with every query.
 */
const root = join(__dirname, '..', '..');
/** Series Prometheus makes itself for each target, not exported by any service. */
const PROMETHEUS_OWN = ['up'];

describe('monitoring names exported metrics', () => {
  const stack = new GatewayStack();
  const exported = new Map<string, Set<string>>();

  beforeAll(async () => {
    await stack.start();
    const { url } = await stack.startGateway();
    const poller = await stack.startPoller();
    const notifier = await stack.startNotifier();
    const refunder = await stack.startRefunder();
    const targets = {
      'payment-gateway': url,
      poller: `http://127.0.0.1:${poller.metricsPort()}`,
      notifier: `http://127.0.0.1:${notifier.metricsPort()}`,
      refunder: `http://127.0.0.1:${refunder.metricsPort()}`,
    };
    for (const [service, base] of Object.entries(targets)) {
      const response = await fetch(`${base}/metrics`);
      expect(response.status).toBe(200);
      exported.set(service, seriesNames(await response.text()));
    }
  }, 120_000);

  afterAll(() => stack.stop());

  const all = () => new Set([...exported.values()].flatMap((names) => [...names]));

  it("exports the contract's metrics, each from its service", () => {
    const expected = {
      'payment-gateway': [
        'payments_applied_total',
        'callbacks_total',
        'payments_settled_total',
        'duplicate_payments_detected_total',
        'outbox_unpublished',
        'refunds_total',
        'cashier_streams_open',
      ],
      poller: [
        'poll_queries_total',
        'inflight_attempt_age_seconds',
        'circuit_breaker_state',
        'dlq_messages_total',
      ],
      notifier: ['notifications_total', 'notify_latency_seconds_bucket', 'circuit_breaker_state'],
      refunder: ['refunds_total', 'refund_anomalies_total', 'dlq_messages_total'],
    };
    for (const [service, names] of Object.entries(expected))
      expect({ service, names: names.filter((name) => !exported.get(service)!.has(name)) }).toEqual({
        service,
        names: [],
      });
  });

  it('every panel of the Grafana dashboard queries only exported metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(root, 'ops/grafana/payments.json'), 'utf8')) as {
      panels: { title?: string; panels?: never[]; targets?: { expr?: string }[] }[];
    };
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(20);
    const names = all();
    for (const expr of queries) {
      expect(metricNames(expr).length).toBeGreaterThan(0);
      expect({ expr, unknown: metricNames(expr).filter((name) => !names.has(name)) }).toEqual({
        expr,
        unknown: [],
      });
    }
  });

  it('every alert rule names only exported metrics', () => {
    const rules = (
      parse(readFileSync(join(root, 'ops/prometheus/alerts.yml'), 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((group) => group.rules);
    const names = new Set([...all(), ...PROMETHEUS_OWN]);
    for (const rule of rules) {
      expect({
        alert: rule.alert,
        unknown: metricNames(rule.expr).filter((name) => !names.has(name)),
      }).toEqual({
        alert: rule.alert,
        unknown: [],
      });
    }
  });
});

/** The series names a Prometheus text exposition declares (`# TYPE` lines), values or not. */
function seriesNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name!);
  }
  return names;
}
