// What ships: the esbuild bundle runs on its own, and the kustomize manifests match the configuration contract
// and grant exactly the API access the launcher uses.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { SETTINGS } from '../src/config.ts';
import { REPO } from './support/cluster.ts';

test('the bundle builds and runs: --version, and launcher-promote maps bad arguments to exit 2', async () => {
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts')], { reject: false });
  assert.equal(b.exitCode, 0, String(b.stderr));
  const v = await execa(process.execPath, [join(REPO, 'image/dist/launcher.mjs'), '--version'], { reject: false });
  assert.equal(String(v.stdout).trim(), '0.1.0');
  const p = await execa(join(REPO, 'image/dist/launcher-promote'), ['only-one'], {
    reject: false,
    env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
  });
  assert.equal(p.exitCode, 2);
  assert.match(String(p.stderr), /expected 7 arguments/);
});

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

test(
  'manifests: kustomize renders; every env var is a documented setting; RBAC covers the calls; master Service ' +
    'selects the label',
  { skip: hasKubectl ? false : 'kubectl (for kustomize) is not installed' },
  async () => {
    const r = await execa('kubectl', ['kustomize', join(REPO, 'manifests')], { reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
    const docs = k8s.loadAllYaml(String(r.stdout)) as any[];
    const sts = docs.find((d) => d.kind === 'StatefulSet');
    const known = new Set<string>(SETTINGS.map((s) => s.env));
    for (const c of sts.spec.template.spec.containers) {
      for (const e of c.env) assert.ok(known.has(e.name), `${c.name}: ${e.name} is not a launcher setting`);
    }
    assert.deepEqual(
      sts.spec.template.spec.containers.map((c: any) => c.args),
      [['run'], ['run', '--sentinel']],
    );
    const role = docs.find((d) => d.kind === 'Role');
    const can = (group: string, resource: string, verb: string) =>
      role.rules.some(
        (x: any) => x.apiGroups.includes(group) && x.resources.includes(resource) && x.verbs.includes(verb),
      );
    for (const v of ['get', 'list', 'patch']) assert.ok(can('', 'pods', v), `pods ${v}`);
    assert.ok(can('', 'events', 'create'));
    assert.ok(can('apps', 'statefulsets', 'get'));
    for (const v of ['get', 'create', 'patch']) assert.ok(can('coordination.k8s.io', 'leases', v), `leases ${v}`);
    const master = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'redis-master');
    assert.equal(master.spec.selector['redis-role'], 'master');
    assert.equal(
      sts.spec.template.spec.serviceAccountName,
      docs.find((d) => d.kind === 'ServiceAccount').metadata.name,
    );
  },
);
