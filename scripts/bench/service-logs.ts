import type { ChildProcess } from 'node:child_process';

/**
 * A service's logs (LOG_LEVEL=warn) go to our stderr, prefixed with its kind: stdout carries only
 * the JSON result. Each line is counted in `tally` by service and message.
 */
export function forwardServiceLogs(kind: string, child: ChildProcess, tally: Record<string, number>): void {
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      process.stderr.write(`[${kind}] ${line.slice(0, 600)}\n`);
      tallyLogLine(tally, kind, line);
    }
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
}

function tallyLogLine(tally: Record<string, number>, kind: string, line: string): void {
  let key: string;
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: unknown };
    const err = typeof entry.err === 'string' ? entry.err : undefined;
    key = `${kind}: ${entry.msg ?? '?'}${err ? ` (${err.slice(0, 80)})` : ''}`;
  } catch {
    key = `${kind}: ${line.slice(0, 120)}`;
  }
  tally[key] = (tally[key] ?? 0) + 1;
}
