import { performance } from 'node:perf_hooks';
import { CpuMeter, serverPids, type CpuReport } from './cpu';
import { withDeadline } from './pool';
import { BenchStack, log, SERVICE_KINDS } from './stack';
import { round } from './stats';

export type CpuPerOperation = Record<string, { operations: number; msPerOperation: Record<string, number> }>;

/** `a / b`, or null when either is unknown or b is 0. */
export function ratioOf(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : round(a / b, 2);
}

/** CPU ms of `group` per operation in a phase, or null when it counted none. */
export const msPer = (cpu: CpuReport, group: string, count: number) =>
  count > 0 ? round((cpu.cpuMs[group] ?? 0) / count, 3) : null;

/**
 * How the bench runs a phase: with a deadline and a log line (`phase`), or also with the CPU each
 * process used during it (`measured`); `perOperation` keeps each phase's CPU per operation.
 */
export class Measure {
  /** CPU per operation of every process, per phase (ms): each change is judged on the process it touches. */
  readonly cpuPerOperation: CpuPerOperation = {};
  /** How long each phase took, in the order run (s): what the run's five minutes went on. */
  readonly phaseSeconds: Record<string, number> = {};
  /** The floor gateway, once started: its processes join the CPU groups. */
  floor: Awaited<ReturnType<BenchStack['startFloor']>> | undefined;
  /** The delivery floor (FLOOR_ROLE=notifier), while it runs. */
  floorNotifierPid: number | undefined;
  /** MariaDB, RabbitMQ and Redis: the servers at the ports the bench's configuration names (found once). */
  private serversFound: Record<string, number[]> | undefined;

  constructor(private readonly stack: BenchStack) {}

  async phase<T>(name: string, limitMs: number, run: () => Promise<T>): Promise<T> {
    log(`${name} …`);
    const started = performance.now();
    const value = await withDeadline(name, limitMs, run());
    const seconds = round((performance.now() - started) / 1000, 1);
    this.phaseSeconds[name] = seconds;
    log(`${name} done in ${seconds} s`);
    return value;
  }

  perOperation(phaseName: string, cpu: CpuReport, operations: number): void {
    if (operations <= 0) return;
    this.cpuPerOperation[phaseName] = {
      operations,
      msPerOperation: Object.fromEntries(
        Object.entries(cpu.cpuMs)
          .filter(([, ms]) => ms > 0)
          .map(([group, ms]) => [group, round(ms / operations, 3)]),
      ),
    };
  }

  readonly cpuGroups = (): Record<string, number[]> => ({
    ...Object.fromEntries(
      SERVICE_KINDS.map((kind) => [
        kind,
        this.stack.running.filter((service) => service.kind === kind).map((service) => service.pid),
      ]),
    ),
    benchProcess: [process.pid],
    sandboxPsp: [this.stack.pspPid],
    sandboxAlipay: [this.stack.alipayPid],
    sandboxWechatpay: [this.stack.wechatpayPid],
    sandboxStripe: [this.stack.stripePid],
    floorGateway: this.floor ? [this.floor.gatewayPid] : [],
    floorStub: this.floor ? [this.floor.stubPid] : [],
    floorNotifier: this.floorNotifierPid ? [this.floorNotifierPid] : [],
    ...this.servers(),
  });

  private servers(): Record<string, number[]> {
    if (this.serversFound) return this.serversFound;
    const config = this.stack.env?.config;
    if (!config) return serverPids();
    const port = (url: string, fallback: number) => Number(new URL(url).port || fallback);
    this.serversFound = serverPids({
      mariadb: port(config.DATABASE_URL, 3306),
      rabbitmq: port(config.AMQP_URL, 5672),
      redis: port(config.REDIS_URL, 6379),
    });
    return this.serversFound;
  }

  /** A phase with the CPU each process used during it. */
  async measured<T>(
    name: string,
    limitMs: number,
    run: () => Promise<T>,
  ): Promise<{ value: T; cpu: CpuReport }> {
    const meter = new CpuMeter(this.cpuGroups()).start();
    const value = await this.phase(name, limitMs, run);
    return { value, cpu: meter.stop() };
  }
}

/** The per-operation CPU of each process, one line per phase, on stderr (the JSON has it too). */
export function printCpuTable(table: CpuPerOperation) {
  const columns = [
    'payment-gateway',
    'poller',
    'notifier',
    'refunder',
    'mariadb',
    'rabbitmq',
    'redis',
    'floorGateway',
    'floorStub',
    'floorNotifier',
    'sandboxPsp',
    'sandboxAlipay',
    'sandboxWechatpay',
    'sandboxStripe',
  ];
  const lines = [`CPU ms per operation | ${columns.join(' | ')}`];
  for (const [phaseName, row] of Object.entries(table))
    lines.push(
      `${phaseName} (${row.operations}) | ${columns.map((column) => row.msPerOperation[column] ?? '-').join(' | ')}`,
    );
  process.stderr.write(`${lines.join('\n')}\n`);
}
