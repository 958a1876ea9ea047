import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Imports run one way: providers -> core -> platform. The platform knows nothing of payments, the
 * core no provider; neither reaches into another package by a relative path. (ESLint's
 * no-restricted-imports says the same in the editor.)
 */
const packages = join(__dirname, '..', '..');

function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return productionFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*|^import\s+)'([^']+)'/gm)].map(
    (m) => m[1]!,
  );
}

const allowed: Record<string, string[]> = {
  platform: ['@payments/platform'],
  core: ['@payments/platform', '@payments/core'],
};

describe('import direction', () => {
  for (const [name, may] of Object.entries(allowed)) {
    it(`${name} imports only ${may.join(' and ')} of our packages, and nothing outside itself by path`, () => {
      const src = join(packages, name, 'src');
      const wrong = productionFiles(src).flatMap((file) =>
        importsOf(file)
          .filter((spec) =>
            spec.startsWith('@payments/')
              ? !may.some((pkg) => spec === pkg || spec.startsWith(`${pkg}/`))
              : spec.startsWith('.') && relative(src, join(file, '..', spec)).startsWith('..'),
          )
          .map((spec) => `${relative(packages, file)}: ${spec}`),
      );
      expect(wrong).toEqual([]);
    });
  }
});
