/** Runs `payctl` as an operator does (its bin, as its own process) against a test stack's settings. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'tools', 'payctl', 'bin', 'payctl.js');

export interface PayctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function payctl(env: Record<string, string>, ...args: string[]): Promise<PayctlResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
