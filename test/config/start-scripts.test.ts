import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARTS } from '../../scripts/lib/processes';

/** `npm run start -w <part>` runs what up, demo, bench and the tests run (`partEntry`): the bundle. */
describe('start scripts', () => {
  const root = join(__dirname, '..', '..');

  it.each(PARTS)('%s bundles its source, then execs node on the bundle', (part) => {
    const manifest = JSON.parse(readFileSync(join(root, part, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(manifest.scripts.start).toBe('node ../../scripts/build.mjs && exec node dist/main.js');
  });
});
