// The import rules of .ci/import-rules.js catch what they forbid (and let through what they allow): each case is a
// one-line file placed, by name, in a folder of src/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import importRules from '../../.ci/import-rules.js';

const eslint = new ESLint({
  overrideConfigFile: true,
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...importRules],
  plugins: { '@typescript-eslint': tseslint.plugin },
});

async function problems(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: file });
  return result.messages.map((m) => m.message);
}

const cases: [file: string, source: string, allowed: boolean][] = [
  ['src/sentinel/rules/boot.ts', "import { x } from '../../model.ts';", true],
  ['src/sentinel/rules/boot.ts', "import { x } from './reconcile.ts';", true],
  ['src/sentinel/rules/boot.ts', "import { x } from '../../config/types.ts';", true],
  ['src/sentinel/rules/boot.ts', "import { x } from '../../kube/pods.ts';", false],
  ['src/sentinel/rules/boot.ts', "import { x } from '../observe.ts';", false],
  ['src/sentinel/rules/boot.ts', "import { readFile } from 'node:fs';", false],
  ['src/sentinel/rules/boot.ts', "import type * as k8s from '@kubernetes/client-node';", true],
  ['src/sentinel/rules/boot.ts', "import { KubeConfig } from '@kubernetes/client-node';", false],
  ['src/cluster/rules/status.ts', "import { x } from '../../sentinel/rules/status.ts';", false],
  ['src/cluster/supervisor.ts', "import { x } from '../sentinel/observe.ts';", false],
  ['src/sentinel/observe.ts', "import { x } from '../cluster/supervisor.ts';", false],
  ['src/sentinel/observe.ts', "import { x } from '../redis/client.ts';", true],
  ['src/kube/pods.ts', "import { x } from '../sentinel/rules/sets.ts';", false],
  ['src/redis/client.ts', "import { x } from '../commands/role.ts';", false],
  ['src/runtime/loop.ts', "import { x } from '../kube/api.ts';", true],
  ['src/model.ts', "import { x } from './runtime/log.ts';", false],
  ['src/sentinel/promote/relabel.ts', "import { x } from '../../commands/promote.ts';", false],
  ['src/cli.ts', "import { x } from './commands/promote.ts';", true],
  ['src/sentinel/promote/hook-client.ts', "import { x } from './hook-protocol.ts';", true],
  ['src/sentinel/promote/hook-client.ts', "import { x } from '../../runtime/log.ts';", false],
  ['src/sentinel/promote/hook-client.ts', "import { Redis } from 'ioredis';", false],
];

for (const [file, source, allowed] of cases) {
  test(`${file}: ${source} is ${allowed ? 'allowed' : 'refused'}`, async () => {
    const found = await problems(file, source);
    if (allowed) assert.deepEqual(found, []);
    else assert.equal(found.length, 1, `expected one refusal, got ${JSON.stringify(found)}`);
  });
}
