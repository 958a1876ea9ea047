import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '@payments/common';
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
    const environment = service.environment ?? {};
    const known = Object.keys(configSchema.shape);
    for (const variable of Object.keys(environment)) expect(known).toContain(variable);
    expect(() => loadConfig(environment)).not.toThrow();
    expect(service.healthcheck).toBeDefined();
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
