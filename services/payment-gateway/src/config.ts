import { type Config } from '@payments/platform';
import { loadConfigOrExit } from '@payments/providers';

/** The gateway reads CONTRACT 2's variables once, at start. */
export function gatewayConfig(env: Record<string, string | undefined> = process.env): Config {
  return loadConfigOrExit(env);
}
