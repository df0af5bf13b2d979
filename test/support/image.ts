// The image as image/Dockerfile writes it: ENTRYPOINT, CMD and ENV of the final stage, and the Node flags its
// entrypoint runs the launcher with (so that the sandbox and the bench run what the image runs).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO } from './cluster.ts';

export function finalStage(dockerfile = readFileSync(join(REPO, 'image/Dockerfile'), 'utf8')) {
  const stages = dockerfile.replace(/\\\n/g, ' ').split(/^FROM .*$/m);
  const last = stages[stages.length - 1];
  const json = (word: string) => JSON.parse(new RegExp(`^${word} (\\[.*\\])$`, 'm').exec(last)?.[1] ?? '[]');
  const env: Record<string, string> = {};
  for (const m of last.matchAll(/^ENV (.*)$/gm)) {
    for (const kv of m[1].trim().split(/\s+/)) env[kv.split('=')[0]] = kv.split('=').slice(1).join('=');
  }
  return { entrypoint: json('ENTRYPOINT') as string[], cmd: json('CMD') as string[], env };
}

/** The flags between `node` and the bundle in the image's ENTRYPOINT. */
export function imageNodeFlags(): string[] {
  const e = finalStage().entrypoint;
  const node = e.indexOf('node');
  return e.slice(node + 1).filter((w) => w.startsWith('--'));
}

/**
 * The image's ENTRYPOINT with the files the image has, where they are here: tini from the machine, this node, and
 * the bundle built into `dist` (for this test alone, never under another test's feet). `here` maps any other path
 * of the image (e.g. LAUNCHER_PROMOTE_SCRIPT) the same way.
 */
export async function imageEntrypoint(dist: string): Promise<{ entrypoint: string[]; here: (w: string) => string }> {
  const tini = spawnSync('sh', ['-c', 'command -v tini'], { encoding: 'utf8' }).stdout.trim();
  if (!tini) throw new Error('tini is not installed (.ci/run installs it)');
  const here = (w: string) =>
    w === '/usr/bin/tini' ? tini : w === 'node' ? process.execPath : w.replace('/opt/redis-ha-launcher', dist);
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts'), dist], { reject: false });
  if (b.exitCode !== 0) throw new Error(`image/build.ts ${dist}: ${b.stderr}`);
  return { entrypoint: finalStage().entrypoint.map(here), here };
}
