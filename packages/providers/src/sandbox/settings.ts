/**
 * The sandbox PSP's section (CONTRACT 6): its channels are offered only where it is configured,
 * and its published secret is refused for a PSP_BASE_URL that is not a local sandbox.
 */
import { fieldMeta, type ProviderSection, type SettingsOf } from '@payments/platform';
import { z } from 'zod';

export const SANDBOX_CHANNELS = ['sandbox-wallet', 'sandbox-qr', 'sandbox-voucher'] as const;

export const pspSettings = {
  PSP_BASE_URL: z.url().optional(),
  PSP_SECRET: z.string().min(1).optional().register(fieldMeta, { secret: true }),
};

/** What sandbox is given: only its own section, never the rest of the configuration. */
export type PspSettings = SettingsOf<typeof pspSettings>;

export const pspSection: ProviderSection<typeof pspSettings> = {
  settings: pspSettings,
  provider: 'sandbox',
  channels: SANDBOX_CHANNELS,
  required: ['PSP_BASE_URL', 'PSP_SECRET'],
  endpoints: ['PSP_BASE_URL'],
  keys: ['PSP_SECRET'],
  // The sandbox PSP's published secret (sandbox/psp/src/keys.ts).
  publishedKeys: ['3188ff0e402df3d95ce86e3a8bc8316f75067644450eeb2b9fd7160ed475b72f'],
};
