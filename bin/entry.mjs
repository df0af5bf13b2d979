// Which code bin/launcher and bin/launcher-promote run: the bundle in image/dist (built by `npm ci` through the
// prepare step, and by `npm run build`), which is what the image ships and what is measured; the sources when
// LAUNCHER_FROM_SOURCE=1, or when the bundle is missing or older than a source file, so that an edit is never
// hidden behind a stale build.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const repo = join(import.meta.dirname, '..');

function newestSource(root) {
  let newest = statSync(join(root, 'package.json')).mtimeMs;
  for (const f of readdirSync(join(root, 'src'), { recursive: true })) {
    if (!String(f).endsWith('.ts')) continue;
    newest = Math.max(newest, statSync(join(root, 'src', String(f))).mtimeMs);
  }
  return newest;
}

/** The file to import: image/dist/<bundle> when fresh, else src/<source>. */
export function entry(bundle, source, root = repo) {
  const built = join(root, 'image/dist', bundle);
  if (process.env.LAUNCHER_FROM_SOURCE !== '1') {
    try {
      if (statSync(built).mtimeMs >= newestSource(root)) return pathToFileURL(built).href;
    } catch {
      /* not built */
    }
  }
  return pathToFileURL(join(root, 'src', source)).href;
}
