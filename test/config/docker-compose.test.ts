import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema, KNOWN_CHANNELS, loadConfig } from '@payments/providers';
import { NODE_HEAP_OPTIONS } from '../../scripts/lib/processes';

/** docker-compose.yml cannot run here (no Docker engine), so keep it honest against the code. */
describe('docker-compose.yml', () => {
  const root = join(__dirname, '..', '..');
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      {
        command?: string[];
        environment?: Record<string, string>;
        depends_on?: Record<string, unknown>;
        healthcheck?: unknown;
        ports?: string[];
      }
    >;
  };
  const apps = [
    'payment-gateway',
    'poller',
    'notifier',
    'refunder',
    'psp',
    'wechatpay',
    'stripe',
    'order-service',
  ];

  it('runs the whole stack: broker with management UI, Redis, MySQL 8, every service and every sandbox', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['rabbitmq', 'redis', 'mysql', 'migrate', ...apps]),
    );
    expect(String((compose.services.rabbitmq as { image?: string }).image)).toMatch(/management/);
    expect(String((compose.services.mysql as { image?: string }).image)).toMatch(/^mysql:8/);
  });

  const clusterEnvFile = Object.fromEntries(
    readFileSync(join(root, 'docker/cluster/cluster.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const imageBuild = dockerfile.split('\n').find((line) => line.startsWith('RUN node scripts/build.mjs'));

  it.each(apps)('%s starts an entry point the image builds, with only known and valid variables', (name) => {
    const service = compose.services[name]!;
    // The image bundles each part (scripts/build.mjs) into <part>/dist/main.js.
    const entry = service.command?.find((part) => part.endsWith('/dist/main.js'));
    expect(entry).toBeDefined();
    // With the heap sizes every part runs with (start scripts, up, demo, bench, tests).
    expect(service.command).toEqual(['node', ...NODE_HEAP_OPTIONS, entry]);
    const partDir = entry!.slice(0, -'/dist/main.js'.length);
    expect(existsSync(join(root, partDir, 'src', 'main.ts'))).toBe(true);
    expect(imageBuild?.split(' ')).toContain(partDir);
    const known = Object.keys(configSchema.shape);
    for (const variable of Object.keys(service.environment ?? {})) expect(known).toContain(variable);
    // As compose fills in `${NAME:-default}`: on its own, and with the cluster profile's env file.
    for (const variables of [{}, clusterEnvFile]) {
      const environment = interpolated(service.environment ?? {}, variables);
      expect(() => loadConfig(environment)).not.toThrow();
    }
    expect(service.healthcheck).toBeDefined();
  });

  it('gives every provider all its settings, its sandbox container named a sandbox host (issue 27.1)', () => {
    const environment = interpolated(compose.services['payment-gateway']!.environment ?? {}, {});
    expect(loadConfig(environment).CHANNELS).toEqual(KNOWN_CHANNELS);
    // Without SANDBOX_HOSTS the sandboxes' published keys are refused for those hosts.
    const { SANDBOX_HOSTS: _, ...elsewhere } = environment;
    expect(() => loadConfig(elsewhere)).toThrow(/ALIPAY_PUBLIC_KEY: is a local sandbox's published test key/);
  });

  it('has a cluster profile: two RabbitMQ nodes joining the first with its cookie, a Redis replica, three Sentinels', () => {
    const cluster = Object.entries(compose.services)
      .filter(([, service]) => (service as { profiles?: string[] }).profiles?.includes('cluster'))
      .map(([name]) => name);
    expect(cluster.sort()).toEqual([
      'rabbitmq-2',
      'rabbitmq-3',
      'redis-replica',
      'sentinel-1',
      'sentinel-2',
      'sentinel-3',
    ]);
    const clusterConf = readFileSync(join(root, 'docker/cluster/rabbitmq.conf'), 'utf8');
    for (const name of ['rabbitmq', 'rabbitmq-2', 'rabbitmq-3']) {
      const node = compose.services[name] as { hostname?: string; environment?: Record<string, string> };
      expect(clusterConf).toContain(`rabbit@${node.hostname}`);
      expect(node.environment?.RABBITMQ_ERLANG_COOKIE).toBe(
        compose.services.rabbitmq!.environment?.RABBITMQ_ERLANG_COOKIE,
      );
    }
    // The services reach every node and every Sentinel the profile starts.
    const config = loadConfig(interpolated(compose.services.poller!.environment ?? {}, clusterEnvFile));
    expect(config.AMQP_URL).toMatch(/rabbitmq:5672.*rabbitmq-2:5672.*rabbitmq-3:5672/);
    for (const sentinel of ['sentinel-1', 'sentinel-2', 'sentinel-3'])
      expect(config.REDIS_SENTINELS).toContain(`${sentinel}:26379`);
    expect(readFileSync(join(root, 'docker/cluster/sentinel.conf'), 'utf8')).toMatch(
      new RegExp(`sentinel monitor ${config.REDIS_SENTINEL_NAME} redis 6379 2`),
    );
  });

  it("the image's default command runs the gateway as compose does", () => {
    const cmd = dockerfile.split('\n').find((line) => line.startsWith('CMD '));
    expect(JSON.parse(cmd!.slice('CMD '.length))).toEqual(compose.services['payment-gateway']!.command);
  });

  it('lets every worker kind scale: no fixed host ports on workers, and they wait for their dependencies', () => {
    for (const name of ['poller', 'notifier', 'refunder']) {
      expect(compose.services[name]!.ports).toBeUndefined();
      expect(Object.keys(compose.services[name]!.depends_on ?? {})).toEqual(
        expect.arrayContaining(['rabbitmq', 'redis', 'mysql', 'migrate']),
      );
    }
  });
});

/** `${NAME:-default}` as compose interpolates it from `variables`. */
function interpolated(environment: Record<string, string>, variables: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      String(value).replace(
        /\$\{([A-Z_]+):-([^}]*)\}/g,
        (_, variable: string, fallback: string) => variables[variable] || fallback,
      ),
    ]),
  );
}
