/**
 * `npm run profile-top -- <file.cpuprofile|folder> [count]`: the functions that took the most CPU
 * in V8 CPU profiles, by self time and by the package they live in, one table per profile. With
 * `BENCH_NODE_ARGS=--cpu-prof npm run bench`, each service writes its profile into its own folder
 * (`services/<kind>/CPU.*.cpuprofile`) when the bench stops it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package under node_modules, our source, node itself, or V8. */
function packageOf(url: string): string {
  if (!url) return '(v8)';
  if (url.startsWith('node:')) return 'node';
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) {
    const rest = url.slice(nodeModules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return 'ours';
}

function summarize(file: string, count: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
  );

  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = url ? `${basename(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where} [${packageOf(url)}]`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = functionName === '(garbage collector)' ? '(gc)' : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const top = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(
        ([key, us]) =>
          `  ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
      )
      .join('\n');
  return [
    `${basename(file)}: busy ${(busyUs / 1000).toFixed(0)} ms, idle ${(idleUs / 1000).toFixed(0)} ms`,
    'by package (self time):',
    top(byPackage),
    'by function (self time):',
    top(byFunction),
  ].join('\n');
}

const [target, countArg] = process.argv.slice(2);
if (!target) {
  process.stderr.write('usage: npm run profile-top -- <file.cpuprofile|folder> [count]\n');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((name) => name.endsWith('.cpuprofile'))
      .map((name) => join(target, name))
  : [target];
for (const file of files) process.stdout.write(`${summarize(file, Number(countArg ?? 25))}\n\n`);
