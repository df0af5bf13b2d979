// Bundles the launcher into one ESM file (image/dist/launcher.mjs) plus the executable Sentinel runs
// (image/dist/launcher-promote). This is the artifact the image ships and the sandbox runs.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const out = join(import.meta.dirname, 'dist');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(import.meta.dirname, '../src/main.ts')],
  outfile: join(out, 'launcher.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  // On an older Node, one line instead of a stack trace (as far as the bundle still parses there).
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      "if (Number(process.versions.node.split('.')[0]) < 24) {",
      '  process.stderr.write(`launcher: Node.js 24 or newer is needed, this is ${process.version}\\n`);',
      '  process.exit(2);',
      '}',
    ].join('\n'),
  },
});
await chmod(join(out, 'launcher.mjs'), 0o755);
// Sentinel execs one path with no extra arguments: a wrapper that calls the bundle's `promote`.
await writeFile(
  join(out, 'launcher-promote'),
  '#!/bin/sh\nexec node "$(dirname "$0")/launcher.mjs" promote -- "$@"\n',
  {
    mode: 0o755,
  },
);
console.log(`built ${join(out, 'launcher.mjs')}`);
