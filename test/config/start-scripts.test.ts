import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_HEAP_OPTIONS, PARTS } from '../../scripts/lib/processes';

/**
 * `npm run start -w <part>` runs what up, demo, bench and the tests run (`partArgs`): the bundle,
 * with the same heap sizes.
 */
describe('start scripts', () => {
  const root = join(__dirname, '..', '..');

  it.each(PARTS)('%s bundles its source, then execs node on the bundle with the heap sizes', (part) => {
    const manifest = JSON.parse(readFileSync(join(root, part, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(manifest.scripts.start).toBe(
      `node ../../scripts/build.mjs && exec node ${NODE_HEAP_OPTIONS.join(' ')} dist/main.js`,
    );
  });
});
