/** Unit tests live beside the code; integration and system tests talk to the real servers. */
// Transpile only: `npm run typecheck` is the type check. (ts-jest, not swc: the registry serves swc's
// native binaries for this platform only, which `npm ci` refuses in a lock file.)
const transform = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
};
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      transform,
      testEnvironment: 'node',
      testMatch: [
        '<rootDir>/{packages,services,sandbox,tools}/*/src/**/*.test.ts',
        '<rootDir>/test/config/**/*.test.ts',
      ],
    },
    {
      displayName: 'integration',
      transform,
      testEnvironment: 'node',
      testMatch: [
        '<rootDir>/{packages,services,sandbox}/*/test/integration/**/*.test.ts',
        // The monitoring files against a real scrape of every service (ops/).
        '<rootDir>/test/ops/**/*.test.ts',
      ],
    },
    {
      // The Promela model of one order, checked with spin (model/payments.pml; .ci/run installs spin).
      displayName: 'model',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/model/**/*.test.ts'],
    },
    {
      displayName: 'browser',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
    },
    {
      displayName: 'system',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/system/**/*.test.ts'],
    },
    {
      // Starts its own RabbitMQ cluster and Redis Sentinels (scripts/lib/cluster.ts) on ports of its own.
      displayName: 'cluster',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
    },
  ],
};
