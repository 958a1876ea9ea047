/**
 * CPU use per process over a phase, from /proc (Linux): what each process burned, as a percentage
 * of one core, and how busy the whole machine was. It shows what bounds a throughput figure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { round } from './stats';

/** USER_HZ: the unit of the times in /proc/<pid>/stat (100 on every mainstream Linux). */
const TICKS_PER_SECOND = 100;

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

const SERVERS: Record<string, string> = {
  mariadbd: 'mariadb',
  mysqld: 'mariadb',
  'beam.smp': 'rabbitmq',
  'redis-server': 'redis',
};

/** The pids of the local MariaDB, RabbitMQ and Redis servers (read only; shared with anyone else using them). */
export function serverPids(): Record<string, number[]> {
  const found: Record<string, number[]> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = SERVERS[readFileSync(`/proc/${entry}/comm`, 'utf8').trim()];
      if (name) (found[name] ??= []).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export interface CpuReport {
  /** Per process group, CPU seconds used ÷ wall seconds × 100 (100 = one core fully busy). */
  percentOfOneCore: Record<string, number>;
  /** Per process group, CPU milliseconds used during the phase. */
  cpuMs: Record<string, number>;
  machineBusyPercent: number;
  /** How long the phase lasted (wall seconds). */
  seconds: number;
}

export class CpuMeter {
  private readonly startTicks = new Map<string, number>();
  private startedAt = 0;
  private startMachine = { busy: 0, total: 0 };

  constructor(private readonly groups: Record<string, number[]>) {}

  private ticksOf(pids: number[]): number {
    return pids.reduce((sum, pid) => sum + (processTicks(pid) ?? 0), 0);
  }

  start(): this {
    for (const [name, pids] of Object.entries(this.groups)) this.startTicks.set(name, this.ticksOf(pids));
    this.startMachine = machineTicks();
    this.startedAt = performance.now();
    return this;
  }

  stop(): CpuReport {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const percentOfOneCore: Record<string, number> = {};
    const cpuMs: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) {
      const used = (this.ticksOf(pids) - (this.startTicks.get(name) ?? 0)) / TICKS_PER_SECOND;
      percentOfOneCore[name] = round((used / seconds) * 100, 0);
      cpuMs[name] = round(used * 1000, 0);
    }
    const machine = machineTicks();
    const total = machine.total - this.startMachine.total;
    return {
      percentOfOneCore,
      cpuMs,
      machineBusyPercent: total > 0 ? round(((machine.busy - this.startMachine.busy) / total) * 100, 0) : 0,
      seconds: round(seconds, 2),
    };
  }
}
