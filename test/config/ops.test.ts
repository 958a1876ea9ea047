import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { dashboardQueries, metricNames } from '../ops/promql';

/**
 * The monitoring files (ops/): the alert rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`, synthetic series in alerts.test.yml), every alert has a test that makes it fire,
 * the scrape config is valid and names the ports compose runs the services on, and compose provisions
 * Grafana with the dashboard and a datasource under the uid its panels name. That the alerts and panels
 * name only metrics the services export is checked against a real scrape by test/ops/exported-metrics.test.ts.
 */
describe('ops/ monitoring', () => {
  const root = join(__dirname, '..', '..');
  const ops = join(root, 'ops');

  function promtool(...args: string[]) {
    const run = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
    if (run.error)
      throw new Error(`promtool: ${run.error.message} (apt-get install prometheus; .ci/run does)`);
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  }

  it('passes promtool check rules', () => {
    const run = promtool('check', 'rules', 'ops/prometheus/alerts.yml');
    expect(run.output).toMatch(/SUCCESS/);
    expect(run.status).toBe(0);
  });

  it('passes its unit tests (promtool test rules ops/prometheus/alerts.test.yml)', () => {
    const run = promtool('test', 'rules', 'ops/prometheus/alerts.test.yml');
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
  });

  it('passes promtool check config, the config loading alerts.yml', () => {
    const run = promtool('check', 'config', 'ops/prometheus/prometheus.yml');
    expect(run.status).toBe(0);
    const config = parse(readFileSync(join(ops, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
  });

  const rules = (
    parse(readFileSync(join(ops, 'prometheus', 'alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[];
    }
  ).groups.flatMap((group) => group.rules);

  it('has a rule for each line of the README\'s "alert when" table, each with a severity', () => {
    for (const metric of [
      'payments_applied_total',
      'callbacks_total',
      'duplicate_payments_detected_total',
      'outbox_unpublished',
      'poll_queries_total',
      'inflight_attempt_age_seconds',
      'notifications_total',
      'notify_latency_seconds_bucket',
      'refunds_total',
      'refund_anomalies_total',
      'dlq_messages_total',
      'circuit_breaker_state',
      'recon_last_run_timestamp_seconds',
    ])
      expect(
        rules.filter((rule) => metricNames(rule.expr).includes(metric)).map((rule) => rule.alert),
      ).not.toEqual([]);
    for (const rule of rules) expect(['page', 'warn', 'info']).toContain(rule.labels.severity);
  });

  it('tests every alert firing at least once, and silent at least once', () => {
    const tests = (
      parse(readFileSync(join(ops, 'prometheus', 'alerts.test.yml'), 'utf8')) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((test) => test.alert_rule_test);
    for (const { alert } of rules) {
      const cases = tests.filter((test) => test.alertname === alert);
      expect({ alert, fires: cases.some((test) => test.exp_alerts.length > 0) }).toEqual({
        alert,
        fires: true,
      });
      expect({ alert, silent: cases.some((test) => test.exp_alerts.length === 0) }).toEqual({
        alert,
        silent: true,
      });
    }
  });

  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { image?: string; volumes?: string[]; environment?: Record<string, string>; ports?: string[] }
    >;
  };

  it('scrapes each service on the port compose runs it on, which answers /metrics on the network', () => {
    const config = parse(readFileSync(join(ops, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const portOf = {
      'payment-gateway': 'GATEWAY_PORT',
      poller: 'METRICS_PORT',
      notifier: 'METRICS_PORT',
      refunder: 'METRICS_PORT',
    };
    expect(config.scrape_configs.map((job) => job.job_name).sort()).toEqual(Object.keys(portOf).sort());
    for (const job of config.scrape_configs) {
      const service = compose.services[job.job_name]!;
      const [target] = job.dns_sd_configs;
      expect(target!.names).toEqual([job.job_name]);
      expect(String(target!.port)).toBe(service.environment?.[portOf[job.job_name as keyof typeof portOf]]);
      expect(service.environment?.OPS_HOST).toBe('0.0.0.0');
    }
  });

  it('runs Prometheus and Grafana (official images) in compose, with ops/ mounted', () => {
    const prometheus = compose.services.prometheus!;
    expect(prometheus.image).toMatch(/^prom\/prometheus:v2\./);
    expect(prometheus.volumes).toContain('./ops/prometheus:/etc/prometheus:ro');
    const grafana = compose.services.grafana!;
    expect(grafana.image).toMatch(/^grafana\/grafana:/);
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        './ops/grafana/provisioning:/etc/grafana/provisioning:ro',
        './ops/grafana/payments.json:/var/lib/grafana/dashboards/payments.json:ro',
      ]),
    );
    const dashboards = parse(
      readFileSync(join(ops, 'grafana/provisioning/dashboards/payments.yml'), 'utf8'),
    ) as {
      providers: { options: { path: string } }[];
    };
    expect(dashboards.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards');
  });

  it('gives the dashboard a Prometheus datasource under the uid every panel names', () => {
    const datasources = parse(
      readFileSync(join(ops, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    const dashboard = JSON.parse(readFileSync(join(ops, 'grafana', 'payments.json'), 'utf8')) as {
      uid: string;
      panels: { type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe('payments');
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    for (const panel of panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
    expect(dashboardQueries(dashboard).length).toBeGreaterThan(20);
  });

  it("writes every panel's query in valid PromQL (promtool checks them as recording rules)", () => {
    const dashboard = JSON.parse(readFileSync(join(ops, 'grafana', 'payments.json'), 'utf8')) as Parameters<
      typeof dashboardQueries
    >[0];
    // Grafana's range variables, as it fills them in.
    const rules = dashboardQueries(dashboard).map((expr, index) => ({
      record: `dashboard:query_${index}`,
      expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '6h'),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const run = promtool('check', 'rules', join(dir, 'queries.yml'));
      expect(run.output).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the metric names out of PromQL (what the exported-metrics check relies on)', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(notify_latency_seconds_bucket{service="notifier"}[$__rate_interval]))) > 5',
      ),
    ).toEqual(['notify_latency_seconds_bucket']);
    expect(
      metricNames(
        'sum(rate(a_total{result=~"x|y"}[5m])) / sum without (instance) (rate(b_total[5m])) > 0.2 and on (job) up == 0',
      ),
    ).toEqual(['a_total', 'b_total', 'up']);
    expect(metricNames('time() - max(recon_last_run_timestamp_seconds) > 26 * 3600')).toEqual([
      'recon_last_run_timestamp_seconds',
    ]);
    expect(metricNames('min(x) < 0 or min(y) < 0 unless z offset 5m')).toEqual(['x', 'y', 'z']);
  });
});
