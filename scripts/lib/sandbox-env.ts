/**
 * The settings that point every provider at its local sandbox, with the sandboxes' published
 * TEST-ONLY keys: how `npm run up`, the demo, the bench and the test stacks start things. The
 * configuration itself has no such defaults (issue 27.1), so a deployment that forgets a setting
 * stops at start instead of verifying notifications with a key whose private half is public.
 * Each sandbox's settings come from its entry in `sandbox/registry.ts`.
 */
import { SANDBOX_KINDS, SANDBOXES, type SandboxKind } from '../../sandbox/registry';

export type SandboxUrls = Record<SandboxKind, string>;

const urlsOf = (url: (kind: SandboxKind) => string): SandboxUrls =>
  Object.fromEntries(SANDBOX_KINDS.map((kind) => [kind, url(kind)])) as SandboxUrls;

/** The sandboxes on this machine at their default ports (CONTRACT 9). */
export const LOCAL_SANDBOX_URLS: SandboxUrls = urlsOf(
  (kind) => `http://127.0.0.1:${SANDBOXES[kind].defaultPort}`,
);

/** The sandboxes on this machine at the ports `env` gives them (SANDBOX_*_PORT), else the defaults. */
export function localSandboxUrls(env: Record<string, string | undefined>): SandboxUrls {
  return urlsOf((kind) => {
    const port = env[SANDBOXES[kind].portVariable];
    return port ? `http://127.0.0.1:${port}` : LOCAL_SANDBOX_URLS[kind];
  });
}

/** Each sandbox's settings for the gateway, at these URLs (only the sandboxes given a URL). */
function sections(urls: Partial<SandboxUrls>): Record<string, string>[] {
  return SANDBOX_KINDS.flatMap((kind) => {
    const url = urls[kind];
    return url === undefined ? [] : [SANDBOXES[kind].gatewayEnv(url)];
  });
}

/** The settings of the providers whose sandbox `urls` names: a provider not named is not configured. */
export function sandboxProvidersEnv(urls: Partial<SandboxUrls> = LOCAL_SANDBOX_URLS): Record<string, string> {
  return Object.assign({}, ...sections(urls));
}

/**
 * `env` with each provider's sandbox settings added where `env` gives none of that provider's own:
 * an operator's provider settings (any variable of that provider) are kept whole, never mixed with
 * a sandbox's keys.
 */
export function withSandboxDefaults(
  env: Record<string, string | undefined>,
  urls: SandboxUrls = LOCAL_SANDBOX_URLS,
): Record<string, string | undefined> {
  const added = sections(urls).filter(
    (section) => !Object.keys(section).some((name) => env[name] || env[`${name}_FILE`]),
  );
  return { ...Object.assign({}, ...added), ...env };
}
