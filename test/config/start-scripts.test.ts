import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PART_NODE_OPTIONS, PARTS } from '../../scripts/lib/processes';

/** `npm run start -w <part>` and the scripts that spawn parts (up, demo, bench, tests) run them alike. */
describe('start scripts', () => {
  const root = join(__dirname, '..', '..');

  it.each(PARTS)('%s bundles its source, then execs node on the bundle with the shared options', (part) => {
    const manifest = JSON.parse(readFileSync(join(root, part, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(manifest.scripts.start).toBe(
      `node ../../scripts/build.mjs && exec node ${PART_NODE_OPTIONS.join(' ')} dist/main.js`,
    );
  });
});
