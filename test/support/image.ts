// The image as image/Dockerfile writes it: ENTRYPOINT, CMD and ENV of the final stage, and the Node flags its
// entrypoint runs the launcher with (so that the sandbox and the bench run what the image runs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
