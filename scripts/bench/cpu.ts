/**
 * CPU use per process over a phase, from /proc (Linux): what each process burned, as a percentage
 * of one core, and how busy the whole machine was. It shows what bounds a throughput figure.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/** The inodes of the sockets listening on `port` (IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; state 0A is LISTEN; the inode is field 9.
      if (fields.length < 10 || fields[3] !== '0A') continue;
      if (parseInt(fields[1]!.split(':')[1]!, 16) === port) inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/** Whether process `pid` holds one of `inodes` (false if its descriptors cannot be read). */
function holdsSocket(pid: string, inodes: Set<string>): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match && inodes.has(match[1]!)) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone, or not ours to read
  }
  return false;
}

/**
 * The pids of the local MariaDB, RabbitMQ and Redis servers (read only; shared with anyone else
 * using them). With `ports` (by group: the ports the bench's configuration names), only the
 * server listening there: another RabbitMQ node or MariaDB on this machine (a test's cluster) is
 * not ours. A group whose port no such process holds keeps every candidate.
 */
export function serverPids(ports: Partial<Record<string, number>> = {}): Record<string, number[]> {
  const candidates: Record<string, string[]> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = SERVERS[readFileSync(`/proc/${entry}/comm`, 'utf8').trim()];
      if (name) (candidates[name] ??= []).push(entry);
    } catch {
      // gone meanwhile
    }
  }
  const found: Record<string, number[]> = {};
  for (const [name, pids] of Object.entries(candidates)) {
    const port = ports[name];
    const inodes = port === undefined ? undefined : listeningInodes(port);
    const serving = inodes && inodes.size > 0 ? pids.filter((pid) => holdsSocket(pid, inodes)) : [];
    found[name] = (serving.length > 0 ? serving : pids).map(Number);
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
