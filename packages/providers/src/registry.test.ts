/**
 * Adding a provider is one folder, its sandbox, and one registry line (issue 28.1): a fourth,
 * minimal provider registered through the registry's public shape alone is parsed and checked by
 * the configuration, redacted by the logger and built with only its own settings, with no other edit.
 */
import { Writable } from 'node:stream';
import { createRegistry } from '@payments/platform';
import { fixtureProvider, type FixtureSettings } from '../test/fixture/provider';
import { providerRegistry } from './compose';
import { PROVIDERS } from './registry';

const registry = providerRegistry([...PROVIDERS, fixtureProvider]);
const fixtureEnv = { FIXTURE_API_KEY: 'fx_live_secret123', FIXTURE_BASE_URL: 'https://api.fixture.example' };

describe('a provider added by one registry line', () => {
  it('has its settings parsed, its channels offered and known, its section checked', () => {
    const config = registry.loadConfig(fixtureEnv);
    expect(config.CHANNELS).toEqual(['fixture-qr']);
    expect(registry.knownChannels).toContain('fixture-qr');
    expect(Object.keys(registry.configSchema.shape)).toEqual(
      expect.arrayContaining(['FIXTURE_API_KEY', 'FIXTURE_BASE_URL']),
    );
    expect(() => registry.loadConfig({ FIXTURE_API_KEY: 'fx_live_secret123' })).toThrow(
      /FIXTURE_BASE_URL: required: fixture is configured/,
    );
    expect(() => registry.loadConfig({ CHANNELS: 'fixture-qr' })).toThrow(/FIXTURE_API_KEY: required/);
  });

  it('has its secret settings and its signature header redacted from logs', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = registry.createLogger('fixture-test', 'info', stream);
    const config = registry.loadConfig(fixtureEnv);
    log.info({ config, headers: { 'x-fixture-signature': 'sig-abcdef' } }, 'callback');
    const written = lines.join('');
    expect(registry.secretConfigNames).toContain('FIXTURE_API_KEY');
    expect(written).not.toContain('fx_live_secret123');
    expect(written).not.toContain('sig-abcdef');
    expect(written).toContain('"FIXTURE_API_KEY":"[redacted]"');
    expect(written).toContain('api.fixture.example');
  });

  it('is built from its own slice of the configuration, nothing else', () => {
    const config = registry.loadConfig(fixtureEnv);
    const log = registry.createLogger('fixture-test', 'silent');
    const { providers, channels } = registry.createProviders(config, createRegistry('fixture-test'), log);
    expect(providers.map((provider) => provider.name)).toEqual(['fixture']);
    expect([...channels.keys()]).toEqual(['fixture-qr']);
    const given = (providers[0] as unknown as { settings: FixtureSettings }).settings;
    expect(Object.keys(given).sort()).toEqual(['FIXTURE_API_KEY', 'FIXTURE_BASE_URL']);
  });
});
