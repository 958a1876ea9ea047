import os from 'node:os';
import { httpText } from './http';
import { peakRssMiB } from './processes';
import { BenchStack, SERVICE_KINDS } from './stack';
import { round } from './stats';

/** The machine the figures were measured on. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAverage1mAtStart: round(os.loadavg()[0]!, 2),
  };
}

/** Peak RSS of every service process (VmHWM), including instances replaced during the run. */
export function peakRssOfServices(stack: BenchStack): Record<string, number | null> {
  const peaks: Record<string, number | null> = {};
  for (const kind of SERVICE_KINDS) {
    const live = stack.running
      .filter((service) => service.kind === kind)
      .map((service) => peakRssMiB(service.pid) ?? 0);
    const peak = Math.max(stack.retiredPeakRss[kind] ?? 0, ...live);
    peaks[kind] = peak > 0 ? round(peak, 1) : null;
  }
  return peaks;
}

/** The process's memory now, from its Prometheus default metrics (MiB). */
export async function memoryOf(url: string): Promise<Record<string, number> | null> {
  const { text } = await httpText(`${url}/metrics`).catch(() => ({ text: '' }));
  const pick = (name: string) => {
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `));
    return line === undefined
      ? Number.NaN
      : round(Number(line.slice(line.lastIndexOf(' ') + 1)) / 1024 ** 2, 1);
  };
  if (!text) return null;
  return {
    rss: pick('process_resident_memory_bytes'),
    heapTotal: pick('nodejs_heap_size_total_bytes'),
    heapUsed: pick('nodejs_heap_size_used_bytes'),
    external: pick('nodejs_external_memory_bytes'),
  };
}
