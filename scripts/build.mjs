#!/usr/bin/env node
/**
 * Bundles a runnable part (a service, a sandbox) into `<part>/dist/main.js`: our TypeScript
 * (the part and our `@payments/*` packages) in one plain JavaScript file, every npm package left as an
 * ordinary `require`. Each start script runs this first, so what starts is always the current
 * source, and then execs node on the bundle: no TypeScript loader in the running process
 * (`--import tsx` costs about 50 MiB of memory per process, on its loader thread).
 *
 * Usage: `node scripts/build.mjs [partDir ...]` (default: the current directory). Several
 * instances may start at once: each writes its own temporary file and renames it into place.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

/** Our own workspace packages are bundled (they are TypeScript); everything else stays external. */
const externalPackages = {
  name: 'external-packages',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@payments/') ? undefined : { path: args.path, external: true },
    );
  },
};

async function buildPart(partDir) {
  const dir = resolve(partDir);
  const outfile = join(dir, 'dist', 'main.js');
  const temporary = `${outfile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await build({
      entryPoints: [join(dir, 'src', 'main.ts')],
      outfile: temporary,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      keepNames: true,
      logLevel: 'warning',
      plugins: [externalPackages],
    });
    renameSync(temporary, outfile);
  } finally {
    rmSync(temporary, { force: true });
  }
  return outfile;
}

const parts = process.argv.slice(2);
for (const part of parts.length > 0 ? parts : ['.']) await buildPart(part);
