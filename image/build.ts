// Bundles the launcher into one ESM file (image/dist/launcher-bundle.mjs) behind a small entry
// (image/dist/launcher.mjs) that starts it from Node's compile cache (image/dist/compile-cache, filled here), the
// client-reconfig-script's own small entry (image/dist/launcher-promote.mjs, no Kubernetes or Redis client in it)
// and the executable Sentinel runs (image/dist/launcher-promote). This is the artifact the image ships and the
// sandbox runs.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { execa } from 'execa';

// Another directory as the first argument (a test builds into its own, never under a running launcher's feet).
const out = process.argv[2] ?? join(import.meta.dirname, 'dist');
const src = join(import.meta.dirname, '../src');
await mkdir(out, { recursive: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  treeShaking: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
} as const;
/** On an older Node, one line instead of a stack trace (as far as the bundle still parses there). */
const nodeCheck = (exitCode: number) => [
  "if (Number(process.versions.node.split('.')[0]) < 24) {",
  '  process.stderr.write(`launcher: Node.js 24 or newer is needed, this is ${process.version}\\n`);',
  `  process.exit(${exitCode});`,
  '}',
];
// One file: each command's code (the Kubernetes client above all) is imported by the command when it runs, which
// esbuild keeps lazy inside the bundle. (Split into chunks it started faster, 30 ms instead of 100 ms for
// --version, but every supervising process then held ~7 MiB more: measured with npm run bench.)
await build({
  ...common,
  entryPoints: [join(src, 'main.ts')],
  outfile: join(out, 'launcher-bundle.mjs'),
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      ...nodeCheck(2),
    ].join('\n'),
  },
});
// The entry: V8 then reads the bundle's compiled code from the cache instead of parsing and compiling 2.8 MB at
// every start (every `launcher role`, probe exec and promote). The cache sits beside the bundle, filled when it is
// built; Node keeps one per Node build, platform and user (the image refills it as its own user). A cache that
// does not match (another Node, an edited bundle, another user) is ignored, silently, and costs only the compile;
// a read-only one is only read. `portable`: the cache names the bundle relative to the cache directory, so a copy
// of the tree (the launcher injected onto a stock engine image) still finds it; Node before 24.12 takes only a
// directory (the cache then holds for this path alone). NODE_COMPILE_CACHE overrides the directory,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const entry = [
  '#!/usr/bin/env node',
  "// The launcher's entry: Node's compile cache, then the bundle (see image/build.ts).",
  ...nodeCheck(2),
  "const { enableCompileCache } = await import('node:module');",
  'const directory = `${import.meta.dirname}/compile-cache`;',
  'try {',
  '  enableCompileCache({ directory, portable: true });',
  '} catch {',
  '  enableCompileCache(directory);',
  '}',
  "await import('./launcher-bundle.mjs');",
  '',
];
await writeFile(join(out, 'launcher.mjs'), entry.join('\n'));
await build({
  ...common,
  entryPoints: [join(src, 'hook-main.ts')],
  outfile: join(out, 'launcher-promote.mjs'),
  banner: { js: ['#!/usr/bin/env node', ...nodeCheck(1)].join('\n') },
});
await chmod(join(out, 'launcher.mjs'), 0o755);
// Fill the cache for this user: compiling the bundle is what --version does first.
await rm(join(out, 'compile-cache'), { recursive: true, force: true });
const filled = await execa(process.execPath, [join(out, 'launcher.mjs'), '--version'], {
  env: { NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined },
  reject: false,
});
if (filled.exitCode !== 0) throw new Error(`the bundle does not start: ${filled.stderr}`);
// Sentinel execs one path with no extra arguments. The image's hook asks the warm Sentinel supervisor with
// valkey-cli or redis-cli (in the image with the server) over the local socket, so a failover starts no Node
// process; without a CLI, a socket or an answer it runs the Node hook, which asks once more and otherwise runs the
// full promote.
const hook = `#!/bin/sh
# launcher-promote: Sentinel's client-reconfig-script (src/sentinel/promote/). Exit 0 done, 1 retry, 2 give up.
sock="\${REDIS_CONF_DIR:-/etc/redis-ha}/launcher.sock"
cli=$(command -v valkey-cli || command -v redis-cli)
if [ -S "$sock" ] && [ -n "$cli" ] && out=$("$cli" --raw -s "$sock" HOOK "$@" 2>/dev/null); then
  nl='
'
  code=\${out%%"$nl"*}
  case $out in *"$nl"*) printf '%s\\n' "\${out#*"$nl"}" >&2 ;; esac
  case $code in 0 | 1 | 2) exit "$code" ;; esac
fi
# Node beside this script when the launcher was copied onto a stock engine image (no node on its PATH).
node="$(dirname "$0")/node"
[ -x "$node" ] || node=node
exec "$node" "$(dirname "$0")/launcher-promote.mjs" "$@"
`;
await writeFile(join(out, 'launcher-promote'), hook);
await chmod(join(out, 'launcher-promote'), 0o755);
if (!process.env.npm_lifecycle_event?.match(/^(prepare|test)$/)) {
  console.log(`built ${join(out, 'launcher.mjs')} and ${join(out, 'launcher-promote.mjs')}`);
}
