/**
 * What the configuration knows of each provider's section (CONTRACT 9, issue 27.1): the variables
 * it needs, where it talks to, and which of its keys are a local sandbox's published ones. Nothing
 * here holds a sandbox's key: a key is named by its fingerprint, and the sandboxes (sandbox/*) hold
 * the keys and prove, in their tests, that these fingerprints are theirs.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { z } from 'zod';

/**
 * One part's own variables (a provider's, a sandbox's), parsed by `loadConfig` beside the
 * platform's when the part's edge passes it in: the configuration never imports a provider.
 */
export interface ConfigSection<S extends z.ZodRawShape = z.ZodRawShape> {
  settings: S;
}

/** The values a section's settings parse to. */
export type SettingsOf<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>>;

export interface ProviderSection<S extends z.ZodRawShape = z.ZodRawShape> extends ConfigSection<S> {
  provider: string;
  channels: readonly string[];
  /** Every variable the provider needs; none has a default. */
  required: readonly string[];
  /** The variables naming where it is reached (a URL each, when set). */
  endpoints: readonly string[];
  /** Variables holding keys or secrets, each refused when it is a published sandbox key outside a sandbox. */
  keys: readonly string[];
  /** `keyFingerprint` of every key and secret the local sandbox publishes. */
  publishedKeys: readonly string[];
}

export function isProviderSection(section: ConfigSection): section is ProviderSection {
  return 'provider' in section;
}

/**
 * SHA-256 (hex) of a key's public half as SPKI DER for PEM text (so a private key and its public
 * half name the same pair), else of the text itself (a shared secret, an API key).
 */
export function keyFingerprint(text: string): string {
  const trimmed = text.trim();
  let material: Buffer = Buffer.from(trimmed, 'utf8');
  if (trimmed.includes('-----BEGIN')) {
    try {
      material = createPublicKey(trimmed).export({ type: 'spki', format: 'der' });
    } catch {
      // not a key we can read: its provider refuses it at start; fingerprint the text
    }
  }
  return createHash('sha256').update(material).digest('hex');
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/** A local sandbox is reached on this machine (loopback) or on a host named in SANDBOX_HOSTS. */
export function isSandboxUrl(url: string, sandboxHosts: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return LOOPBACK.test(host) || sandboxHosts.includes(host.toLowerCase());
}

/**
 * Every problem of the provider sections, each naming its variable: a provider whose settings are
 * given in part, or whose channel `CHANNELS` names, must have all of them; a sandbox's published key
 * is refused for a provider pointed anywhere but a sandbox.
 */
export function providerSectionProblems(
  sections: readonly ProviderSection[],
  values: Record<string, unknown>,
  named: readonly string[] | undefined,
  sandboxHosts: readonly string[],
): string[] {
  const problems: string[] = [];
  const isSet = (name: string) => values[name] !== undefined;
  for (const section of sections) {
    const given = section.required.filter(isSet);
    const wanted = (named ?? []).filter((channel) => section.channels.includes(channel));
    if (given.length === 0 && wanted.length === 0) continue;
    const why =
      wanted.length > 0
        ? `CHANNELS names ${wanted.join(', ')}`
        : `${section.provider} is configured (${given.join(', ')} set)`;
    for (const name of section.required.filter((candidate) => !isSet(candidate)))
      problems.push(`${name}: required: ${why}, and ${section.provider} needs every one of its settings`);
    const outside = section.endpoints.filter(
      (name) => isSet(name) && !isSandboxUrl(String(values[name]), sandboxHosts),
    );
    if (outside.length === 0) continue;
    for (const name of section.keys.filter(isSet))
      if (section.publishedKeys.includes(keyFingerprint(String(values[name]))))
        problems.push(
          `${name}: is a local sandbox's published test key, refused while ${outside.join(', ')} points elsewhere than a sandbox (loopback or SANDBOX_HOSTS)`,
        );
  }
  return problems;
}

/** The channels of every provider whose settings are given: what a deployment offers when CHANNELS is unset. */
export function configuredChannels(
  sections: readonly ProviderSection[],
  values: Record<string, unknown>,
): string[] {
  return sections
    .filter((section) => section.required.some((name) => values[name] !== undefined))
    .flatMap((section) => section.channels);
}
