/** The PSP sandbox's entry in `sandbox/registry.ts`. */
import { createLogger } from '@payments/providers';
import type { SandboxEntry } from '@payments/sandbox-kit';
import { SANDBOX_PSP_SECRET, sandboxPspEnv } from './keys';
import { buildPspServer } from './server';

export const pspSandbox: SandboxEntry = {
  part: 'sandbox/psp',
  portVariable: 'SANDBOX_PSP_PORT',
  defaultPort: 8090,
  gatewayEnv: sandboxPspEnv,
  build: () => buildPspServer({ secret: SANDBOX_PSP_SECRET, log: createLogger('psp', 'silent') }),
  faultsPath: '/sandbox/faults',
};
