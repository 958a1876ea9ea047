/**
 * What the stacks, `npm run up` and the scripts know of one provider's sandbox: one entry in
 * `sandbox/registry.ts`, exported by the sandbox's own folder (`src/entry.ts`).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

export interface SandboxContext {
  /** The stack's first gateway, once it runs (where an account-wide webhook endpoint points). */
  gatewayUrl: () => string | undefined;
}

export interface SandboxEntry {
  /** Its folder, a part `npm run up` starts as its own process. */
  part: `sandbox/${string}`;
  /** The variable naming its port on this machine, and the port without it. */
  portVariable: string;
  defaultPort: number;
  /** The settings that point the gateway's provider at the sandbox, with its published TEST-ONLY keys. */
  gatewayEnv(url: string): Record<string, string>;
  /** The sandbox in-process, as the test stacks run it: its own keys, its provider's schedules compressed. */
  build(context: SandboxContext): FastifyInstance;
  /** Where the kit's control API takes its faults. */
  faultsPath: string;
}

/** The sandbox's port: its variable in `env` if set, else its default (as the configuration reads a port); exits on a bad value. */
export function sandboxPortFromEnv(entry: SandboxEntry, env: NodeJS.ProcessEnv = process.env): number {
  const parsed = z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(entry.defaultPort)
    .safeParse(env[entry.portVariable]);
  if (!parsed.success) {
    process.stderr.write(`invalid configuration: ${entry.portVariable}: must be a port number\n`);
    process.exit(1);
  }
  return parsed.data;
}
