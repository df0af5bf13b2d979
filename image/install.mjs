// The launcher-only image's entrypoint (image/Dockerfile, target launcher-only): copies Node, the bundle, its
// compile cache, the promote hook and a static tini into the pod's shared volume (default /launcher), from which
// the stock engine image's containers run them. Copies to a temporary name first, so that a container restarted
// halfway never finds a half-written file under the final name.
import { cpSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const to = process.argv[2] ?? '/launcher';
for (const f of readdirSync(import.meta.dirname)) {
  if (f === 'install.mjs') continue;
  const tmp = join(to, `.${f}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  cpSync(join(import.meta.dirname, f), tmp, { recursive: true, preserveTimestamps: true });
  rmSync(join(to, f), { recursive: true, force: true });
  renameSync(tmp, join(to, f));
}
process.stdout.write(`launcher: installed into ${to}\n`);
