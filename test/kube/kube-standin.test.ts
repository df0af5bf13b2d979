// Conformance of the stand-in kube-apiserver: one test per line of the checklist in
// shared/reference/kube-api-standin.md §11 (IDs in the test names).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, openWatch } from '../support/kube/client.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { DEFAULT_TOKEN, KubeStandin } from '../support/kube/server.ts';

const NS = 'redis';
const PODS = `/api/v1/namespaces/${NS}/pods`;
const MERGE = 'application/merge-patch+json';
const JSONP = 'application/json-patch+json';
const SMP = 'application/strategic-merge-patch+json';

let api: KubeStandin;

function seed() {
  for (const [i, role] of ['master', 'slave', undefined].entries()) {
    api.put(
      'pods',
      statefulSetPod({
        sts: 'redis',
        ordinal: i,
        namespace: NS,
        labels: { app: 'redis', tier: String(i * 10), ...(role ? { 'redis-role': role } : {}) },
      }),
    );
    setPodState(api, NS, `redis-${i}`, { phase: 'Running', podIP: `10.0.0.${i + 1}`, ready: i !== 2 });
  }
  api.put('pods', statefulSetPod({ sts: 'other', ordinal: 0, namespace: NS, labels: { app: 'other' } }));
  api.put('pods', statefulSetPod({ sts: 'redis', ordinal: 0, namespace: 'zz', labels: { app: 'redis' } }));
}

before(async () => {
  api = await new KubeStandin({
    tokens: {
      admin: { user: 'system:admin' },
      [DEFAULT_TOKEN]: { user: 'system:admin' },
      reader: {
        user: 'system:serviceaccount:redis:reader',
        grants: [{ verbs: ['get', 'list', 'watch'], resources: ['pods'], groups: [''] }],
      },
      named: {
        user: 'system:serviceaccount:redis:named',
        grants: [
          { verbs: ['get', 'create', 'list', 'watch'], resources: ['pods'], groups: [''], resourceNames: ['redis-0'] },
        ],
      },
    },
    bookmarkMs: 200,
    historyLimit: 50,
  }).start();
  seed();
});
after(() => api.close());

const names = (r: { json: any }) => r.json.items.map((i: any) => i.metadata.name);
const T = { token: 'admin' };

describe('transport', () => {
  test('T1 every JSON response has Content-Type application/json (success and error)', async () => {
    for (const [m, p] of [
      ['GET', PODS],
      ['GET', `${PODS}/nope`],
      ['GET', '/api/v1/namespaces/x/foos'],
      ['GET', '/apis'],
    ] as const) {
      const r = await call(api, m, p, T);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${m} ${p}`);
    }
  });
  test('T2 errors use the Status envelope with HTTP status = code', async () => {
    const r = await call(api, 'GET', `${PODS}/redis-9`, T);
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "redis-9" not found',
      reason: 'NotFound',
      details: { name: 'redis-9', kind: 'pods' },
      code: 404,
    });
  });
  test('T3 + decodes to space; repeated parameters use the first value', async () => {
    const r = await call(api, 'GET', `${PODS}?labelSelector=app+in+(redis)&labelSelector=app%3Dother`, T);
    assert.deepEqual(names(r), ['redis-0', 'redis-1', 'redis-2']);
  });
  test('T4 unknown resource under a served group → 404 Status', async () => {
    const r = await call(api, 'GET', '/api/v1/namespaces/x/foos', T);
    assert.equal(r.status, 404);
    assert.equal(r.json.message, 'the server could not find the requested resource');
    assert.deepEqual(r.json.details, {});
    const outside = await call(api, 'GET', '/apis/nope.io/v1/namespaces/x/foos', T);
    assert.equal(outside.status, 404);
    assert.equal(outside.text, '404 page not found\n');
  });
  test('T5 bad or missing token → 401; token without a grant → 403 with message and details', async () => {
    for (const token of [null, 'wrong']) {
      const r = await call(api, 'GET', PODS, { token });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    const p = await call(api, 'PATCH', `${PODS}/redis-0`, {
      token: 'reader',
      contentType: MERGE,
      body: { metadata: { labels: { a: 'b' } } },
    });
    assert.equal(p.status, 403);
    assert.equal(p.json.reason, 'Forbidden');
    assert.equal(
      p.json.message,
      'pods "redis-0" is forbidden: User "system:serviceaccount:redis:reader" cannot patch resource "pods" in API ' +
        'group "" in the namespace "redis"',
    );
    assert.deepEqual(p.json.details, { name: 'redis-0', kind: 'pods' });
    const l = await call(api, 'GET', '/apis/apps/v1/namespaces/redis/statefulsets', { token: 'reader' });
    assert.equal(l.status, 403);
    assert.equal(
      l.json.message,
      'statefulsets.apps is forbidden: User "system:serviceaccount:redis:reader" cannot list resource ' +
        '"statefulsets" in API group "apps" in the namespace "redis"',
    );
    assert.deepEqual(l.json.details, { group: 'apps', kind: 'statefulsets' });
    const s = await call(api, 'PATCH', `${PODS}/redis-0/status`, { token: 'reader', contentType: MERGE, body: {} });
    assert.match(s.json.message, /cannot patch resource "pods\/status"/);
    assert.equal(s.json.details.kind, 'pods');
  });

  test('T6 a rule with resourceNames allows requests for those names only; never create or list', async () => {
    assert.equal((await call(api, 'GET', `${PODS}/redis-0`, { token: 'named' })).status, 200);
    const other = await call(api, 'GET', `${PODS}/redis-1`, { token: 'named' });
    assert.equal(other.status, 403);
    assert.match(other.json.message, /pods "redis-1" is forbidden: .* cannot get resource "pods"/);
    assert.equal((await call(api, 'GET', PODS, { token: 'named' })).status, 403);
    const create = await call(api, 'POST', PODS, {
      token: 'named',
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'redis-0' }, spec: { containers: [] } },
    });
    assert.equal(create.status, 403, 'create carries no name RBAC could match');
  });

  test('T7 list and watch with fieldSelector metadata.name=X are authorized as requests for X', async () => {
    // kube-apiserver's RequestInfoFactory takes the name of a list or watch from an exact metadata.name selector.
    const one = await call(api, 'GET', `${PODS}?fieldSelector=metadata.name%3Dredis-0`, { token: 'named' });
    assert.equal(one.status, 200);
    assert.deepEqual(names(one), ['redis-0']);
    const other = await call(api, 'GET', `${PODS}?fieldSelector=metadata.name%3Dredis-1`, { token: 'named' });
    assert.equal(other.status, 403);
    const notExact = await call(api, 'GET', `${PODS}?fieldSelector=metadata.name!%3Dredis-1`, { token: 'named' });
    assert.equal(notExact.status, 403, 'only an exact match names the object');
    const w = await call(api, 'GET', `${PODS}?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dredis-0`, {
      token: 'named',
    });
    assert.equal(w.status, 200);
  });
});

describe('list', () => {
  test('L1 PodList shape: string RV, items array, items without kind/apiVersion', async () => {
    const r = await call(api, 'GET', PODS, T);
    assert.equal(r.json.kind, 'PodList');
    assert.equal(r.json.apiVersion, 'v1');
    assert.equal(typeof r.json.metadata.resourceVersion, 'string');
    for (const i of r.json.items) {
      assert.equal(i.kind, undefined);
      assert.equal(i.apiVersion, undefined);
    }
    assert.ok(
      r.json.items.every((i: any) => Number(i.metadata.resourceVersion) <= Number(r.json.metadata.resourceVersion)),
    );
    const empty = await call(api, 'GET', `${PODS}?labelSelector=app%3Dnone`, T);
    assert.deepEqual(empty.json.items, []);
  });
  test('L2 items sorted by namespace then name', async () => {
    const r = await call(api, 'GET', '/api/v1/pods', T);
    assert.deepEqual(
      r.json.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`),
      ['redis/other-0', 'redis/redis-0', 'redis/redis-1', 'redis/redis-2', 'zz/redis-0'],
    );
  });
  test('L3 label selector operators, whitespace, empty values, != and notin match absent keys', async () => {
    const q = async (s: string) => names(await call(api, 'GET', `${PODS}?labelSelector=${encodeURIComponent(s)}`, T));
    assert.deepEqual(await q('app=redis'), ['redis-0', 'redis-1', 'redis-2']);
    assert.deepEqual(await q('app==redis,redis-role=master'), ['redis-0']);
    assert.deepEqual(await q('redis-role!=master'), ['other-0', 'redis-1', 'redis-2']);
    assert.deepEqual(await q('redis-role in (master, slave)'), ['redis-0', 'redis-1']);
    assert.deepEqual(await q('redis-role notin (master)'), ['other-0', 'redis-1', 'redis-2']);
    assert.deepEqual(await q('redis-role'), ['redis-0', 'redis-1']);
    assert.deepEqual(await q('!redis-role'), ['other-0', 'redis-2']);
    assert.deepEqual(await q('tier>5'), ['redis-1', 'redis-2']);
    assert.deepEqual(await q('tier < 15'), ['redis-0', 'redis-1']);
    assert.deepEqual(await q('  app = redis ,  tier  in ( 0 , 20 ) '), ['redis-0', 'redis-2']);
    assert.deepEqual(await q('app=redis,app=other'), []);
    assert.deepEqual(await q('redis-role='), []);
    assert.deepEqual(await q(''), ['other-0', 'redis-0', 'redis-1', 'redis-2']);
  });
  test('L4 invalid label selectors → 400 BadRequest without items', async () => {
    for (const s of ['role in (master', 'app=bad$val', 'x<a', 'bad key=1', '=x', 'a,,b', '-a=1']) {
      const r = await call(api, 'GET', `${PODS}?labelSelector=${encodeURIComponent(s)}`, T);
      assert.equal(r.status, 400, s);
      assert.equal(r.json.reason, 'BadRequest', s);
      assert.equal(r.json.items, undefined);
      assert.equal(r.json.details, undefined);
    }
  });
  test('L5 field selectors: supported keys only, =, ==, !=', async () => {
    const q = (s: string) => call(api, 'GET', `${PODS}?fieldSelector=${encodeURIComponent(s)}`, T);
    assert.deepEqual(names(await q('status.podIP=10.0.0.2')), ['redis-1']);
    assert.deepEqual(names(await q('status.podIP==10.0.0.2')), ['redis-1']);
    assert.deepEqual(names(await q('status.phase=Running,metadata.name!=redis-0')), ['redis-1', 'redis-2']);
    assert.deepEqual(names(await q('spec.hostNetwork=false,status.podIP=')), ['other-0']);
    assert.deepEqual(names(await q('status.podIPs=10.0.0.2')), []);
    const bad = await q('status.podIp=1');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'field label not supported: status.podIp');
    const op = await q('status.phase>Running');
    assert.equal(op.status, 400);
    assert.match(op.json.message, /^invalid selector: 'status.phase>Running'; can't understand/);
  });
  test('L6 limit and continue; bad token → 400; remainingItemCount only without selectors', async () => {
    const p1 = await call(api, 'GET', `${PODS}?limit=2`, T);
    assert.deepEqual(names(p1), ['other-0', 'redis-0']);
    assert.equal(p1.json.metadata.remainingItemCount, 2);
    const p2 = await call(api, 'GET', `${PODS}?limit=2&continue=${p1.json.metadata.continue}`, T);
    assert.deepEqual(names(p2), ['redis-1', 'redis-2']);
    assert.equal(p2.json.metadata.continue, undefined);
    const s1 = await call(api, 'GET', `${PODS}?limit=2&labelSelector=app%3Dredis`, T);
    assert.deepEqual(names(s1), ['redis-0', 'redis-1']);
    assert.ok(s1.json.metadata.continue);
    assert.equal(s1.json.metadata.remainingItemCount, undefined);
    const bad = await call(api, 'GET', `${PODS}?limit=2&continue=garbage`, T);
    assert.equal(bad.status, 400);
  });
  test('L7 list in a missing namespace → 200 empty', async () => {
    const r = await call(api, 'GET', '/api/v1/namespaces/nowhere/pods', T);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items, []);
  });
});

describe('get', () => {
  test('G1 full object with kind/apiVersion; 404 details.kind is the plural resource', async () => {
    const r = await call(api, 'GET', `${PODS}/redis-0`, T);
    assert.equal(r.json.kind, 'Pod');
    assert.equal(r.json.apiVersion, 'v1');
    assert.equal(r.json.status.podIP, '10.0.0.1');
    assert.match(r.json.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const sts = await call(api, 'GET', `/apis/apps/v1/namespaces/${NS}/statefulsets/redis`, T);
    assert.equal(sts.json.message, 'statefulsets.apps "redis" not found');
    assert.deepEqual(sts.json.details, { name: 'redis', group: 'apps', kind: 'statefulsets' });
    const svc = await call(api, 'GET', `/api/v1/namespaces/${NS}/services/redis`, T);
    assert.deepEqual(svc.json.details, { name: 'redis', kind: 'services' });
  });
  test('G2 /pods/{name}/status returns the whole pod', async () => {
    const r = await call(api, 'GET', `${PODS}/redis-0/status`, T);
    assert.equal(r.json.kind, 'Pod');
    assert.ok(r.json.spec.containers);
    assert.equal(r.json.status.phase, 'Running');
  });
});

describe('watch', () => {
  test('W1+W2 headers flushed before events; synthetic ADDED first; compact JSON lines', async () => {
    const w = await openWatch(api, `${PODS}?watch=true&labelSelector=app%3Dredis`);
    assert.equal(w.status, 200);
    assert.match(w.headers.get('content-type')!, /^application\/json/);
    await w.next(3);
    assert.deepEqual(
      w.events.map((e) => [e.type, e.object.metadata.name, e.object.kind]),
      [
        ['ADDED', 'redis-0', 'Pod'],
        ['ADDED', 'redis-1', 'Pod'],
        ['ADDED', 'redis-2', 'Pod'],
      ],
    );
    assert.ok(w.rawLines.every((l) => !l.includes('\n  ') && JSON.stringify(JSON.parse(l)) === l));
    w.close();
    // headers arrive although nothing matches
    const quiet = await openWatch(api, `${PODS}?watch=true&labelSelector=app%3Dnone&resourceVersion=0`);
    assert.equal(quiet.status, 200);
    quiet.close();
  });
  test(
    'W3+W7 resourceVersion=N gives only later changes, RVs increasing and equal to stored; too old → ERROR 410 ' +
      'then close',
    async () => {
      const rv = (await call(api, 'GET', PODS, T)).json.metadata.resourceVersion;
      const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=${rv}`);
      await call(api, 'PATCH', `${PODS}/redis-1`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { annotations: { a: '1' } } },
      });
      await call(api, 'PATCH', `${PODS}/redis-2`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { annotations: { a: '1' } } },
      });
      await w.next(2);
      assert.deepEqual(
        w.events.map((e) => [e.type, e.object.metadata.name]),
        [
          ['MODIFIED', 'redis-1'],
          ['MODIFIED', 'redis-2'],
        ],
      );
      const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.ok(rvs[0] > Number(rv) && rvs[1] > rvs[0]);
      assert.equal((await call(api, 'GET', `${PODS}/redis-2`, T)).json.metadata.resourceVersion, String(rvs[1]));
      w.close();
      for (let i = 0; i < 60; i++) {
        await call(api, 'PATCH', `${PODS}/other-0`, {
          ...T,
          contentType: MERGE,
          body: { metadata: { annotations: { n: String(i) } } },
        });
      }
      const old = await openWatch(api, `${PODS}?watch=true&resourceVersion=${rv}`);
      await old.end();
      assert.equal(old.events.length, 1);
      assert.equal(old.events[0].type, 'ERROR');
      assert.equal(old.events[0].object.code, 410);
      assert.equal(old.events[0].object.reason, 'Expired');
    },
  );
  test(
    'W4 selector transitions: ADDED on entering, DELETED (previous content, new RV) on leaving, nothing for ' +
      'no-ops',
    async () => {
      const rv = (await call(api, 'GET', PODS, T)).json.metadata.resourceVersion;
      const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=${rv}&labelSelector=redis-role%3Dmaster`);
      await call(api, 'PATCH', `${PODS}/redis-1`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { labels: { 'redis-role': 'master' } } },
      });
      await call(api, 'PATCH', `${PODS}/redis-1`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { labels: { 'redis-role': 'master' } } },
      }); // no-op
      await call(api, 'PATCH', `${PODS}/other-0`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { labels: { x: 'y' } } },
      }); // not matching
      const del = await call(api, 'PATCH', `${PODS}/redis-1`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { labels: { 'redis-role': 'slave' } } },
      });
      await w.next(2);
      assert.deepEqual(
        w.events.map((e) => [e.type, e.object.metadata.name]),
        [
          ['ADDED', 'redis-1'],
          ['DELETED', 'redis-1'],
        ],
      );
      assert.equal(w.events[1].object.metadata.labels['redis-role'], 'master');
      assert.equal(w.events[1].object.metadata.resourceVersion, del.json.metadata.resourceVersion);
      await call(api, 'PATCH', `${PODS}/redis-0`, {
        ...T,
        contentType: MERGE,
        body: { metadata: { labels: { touched: 'yes' } } },
      });
      await w.next(3);
      assert.equal(w.events[2].type, 'MODIFIED');
      assert.equal(w.events.length, 3);
      w.close();
    },
  );
  test('W5 timeoutSeconds ends the stream cleanly; without it the stream stays open', async () => {
    const t0 = Date.now();
    const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=0&timeoutSeconds=1`);
    await w.end(4000);
    assert.ok(Date.now() - t0 >= 900);
    assert.ok(w.events.every((e) => e.type === 'ADDED'));
    const open = await openWatch(api, `${PODS}?watch=true&labelSelector=app%3Dnone`);
    await assert.rejects(open.end(1500));
    open.close();
  });
  test('W6 BOOKMARK only with allowWatchBookmarks=true', async () => {
    const rv = (await call(api, 'GET', PODS, T)).json.metadata.resourceVersion;
    const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
    await w.next(1, 2000);
    assert.equal(w.events[0].type, 'BOOKMARK');
    assert.equal(typeof w.events[0].object.metadata.resourceVersion, 'string');
    w.close();
    const n = await openWatch(api, `${PODS}?watch=true&resourceVersion=${rv}`);
    await assert.rejects(n.next(1, 700));
    n.close();
  });
  test('W8 a client abort is handled; re-watch from the last RV resumes without loss or 410', async () => {
    const rv0 = (await call(api, 'GET', PODS, T)).json.metadata.resourceVersion;
    const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=${rv0}`);
    await call(api, 'PATCH', `${PODS}/redis-0`, {
      ...T,
      contentType: MERGE,
      body: { metadata: { annotations: { w8: '1' } } },
    });
    await w.next(1);
    const last = w.events[0].object.metadata.resourceVersion;
    w.close();
    await call(api, 'PATCH', `${PODS}/redis-0`, {
      ...T,
      contentType: MERGE,
      body: { metadata: { annotations: { w8: '2' } } },
    });
    const again = await openWatch(api, `${PODS}?watch=true&resourceVersion=${last}`);
    await again.next(1);
    assert.equal(again.events[0].type, 'MODIFIED');
    assert.equal(again.events[0].object.metadata.annotations.w8, '2');
    again.close();
    assert.equal((await call(api, 'GET', PODS, T)).status, 200); // server still healthy
  });
});

describe('patch', () => {
  const patch = (name: string, contentType: string | undefined, body: unknown, suffix = '') =>
    call(api, 'PATCH', `${PODS}/${name}${suffix}`, { ...T, contentType, body });

  test('P1 four content types accepted (charset ignored); others or missing → 415', async () => {
    assert.equal(
      (await patch('redis-2', MERGE + '; charset=utf-8', { metadata: { labels: { p1: 'a' } } })).status,
      200,
    );
    assert.equal((await patch('redis-2', SMP, { metadata: { labels: { p1: 'b' } } })).status, 200);
    assert.equal(
      (await patch('redis-2', JSONP, [{ op: 'replace', path: '/metadata/labels/p1', value: 'c' }])).status,
      200,
    );
    for (const ct of ['application/json', undefined, 'text/plain', 'application/apply-patch+yaml']) {
      const r = await patch('redis-2', ct, { metadata: { labels: { p1: 'x' } } });
      assert.equal(r.status, 415, String(ct));
      assert.deepEqual(r.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: '415: Unsupported Media Type',
        reason: 'UnsupportedMediaType',
        details: {},
        code: 415,
      });
    }
  });
  test('P2 json-patch+json with an object body → 400 (client-node default content type)', async () => {
    const r = await patch('redis-2', JSONP, { metadata: { labels: { p2: 'a' } } });
    assert.equal(r.status, 400);
    assert.equal(r.json.reason, 'BadRequest');
  });
  test('P3 merge/SMP: null deletes, labels:null clears, arrays replaced (merge) or merged by key (SMP)', async () => {
    await patch('redis-2', MERGE, { metadata: { labels: { gone: 'x', keep: 'y' } } });
    let r = await patch('redis-2', MERGE, { metadata: { labels: { gone: null, absent: null } } });
    assert.equal(r.json.metadata.labels.gone, undefined);
    assert.equal(r.json.metadata.labels.keep, 'y');
    r = await patch('redis-2', MERGE, { metadata: { labels: null } });
    assert.equal(r.json.metadata.labels, undefined);
    api.put('services', {
      metadata: { name: 'redis', namespace: NS },
      spec: {
        selector: { app: 'redis' },
        ports: [{ name: 'redis', protocol: 'TCP', port: 6379, targetPort: 6379 }],
        clusterIP: '10.96.0.10',
        type: 'ClusterIP',
      },
    });
    const svc = `/api/v1/namespaces/${NS}/services/redis`;
    const s1 = await call(api, 'PATCH', svc, {
      ...T,
      contentType: SMP,
      body: { spec: { ports: [{ name: 'sentinel', protocol: 'TCP', port: 26379, targetPort: 26379 }] } },
    });
    assert.deepEqual(
      s1.json.spec.ports.map((p: any) => p.port),
      [6379, 26379],
    );
    const s2 = await call(api, 'PATCH', svc, {
      ...T,
      contentType: MERGE,
      body: { spec: { ports: [{ name: 'only', protocol: 'TCP', port: 1, targetPort: 1 }] } },
    });
    assert.deepEqual(
      s2.json.spec.ports.map((p: any) => p.port),
      [1],
    );
  });
  test('P4 JSON Patch: ~1 unescaping, add/replace/remove/test, failures → 422 details {}, atomic', async () => {
    let r = await patch('redis-2', JSONP, [{ op: 'add', path: '/metadata/labels', value: { 'redis.io/role': 'a' } }]);
    assert.equal(r.json.metadata.labels['redis.io/role'], 'a');
    r = await patch('redis-2', JSONP, [{ op: 'replace', path: '/metadata/labels/redis.io~1role', value: 'b' }]);
    assert.equal(r.json.metadata.labels['redis.io/role'], 'b');
    const before = r.json.metadata.resourceVersion;
    for (const ops of [
      [{ op: 'replace', path: '/metadata/labels/missing', value: 'x' }],
      [{ op: 'remove', path: '/metadata/labels/missing' }],
      [{ op: 'add', path: '/metadata/nothere/x', value: 'x' }],
      [
        { op: 'add', path: '/metadata/labels/ok', value: 'x' },
        { op: 'test', path: '/metadata/labels/redis.io~1role', value: 'wrong' },
      ],
    ]) {
      const f = await patch('redis-2', JSONP, ops);
      assert.equal(f.status, 422, JSON.stringify(ops));
      assert.equal(f.json.message, 'the server rejected our request due to an error in our request');
      assert.deepEqual(f.json.details, {});
    }
    const now = await call(api, 'GET', `${PODS}/redis-2`, T);
    assert.equal(now.json.metadata.resourceVersion, before);
    assert.equal(now.json.metadata.labels.ok, undefined);
    r = await patch('redis-2', JSONP, [
      { op: 'test', path: '/metadata/labels/redis.io~1role', value: 'b' },
      { op: 'remove', path: '/metadata/labels/redis.io~1role' },
    ]);
    assert.equal(r.status, 200);
    assert.equal(r.json.metadata.labels?.['redis.io/role'], undefined);
  });
  test(
    'P5 invalid label keys/values → 422 Invalid (details.kind Pod, field metadata.labels); non-string values → ' +
      '422',
    async () => {
      const r = await patch('redis-2', MERGE, { metadata: { labels: { ok: 'bad value' } } });
      assert.equal(r.status, 422);
      assert.equal(r.json.reason, 'Invalid');
      assert.match(
        r.json.message,
        /^Pod "redis-2" is invalid: metadata.labels: Invalid value: "bad value": a valid label must be an empty string/,
      );
      assert.equal(r.json.details.kind, 'Pod');
      assert.equal(r.json.details.causes[0].field, 'metadata.labels');
      assert.equal((await patch('redis-2', MERGE, { metadata: { labels: { ['x'.repeat(64)]: 'v' } } })).status, 422);
      assert.equal((await patch('redis-2', MERGE, { metadata: { labels: { 'Bad_Prefix/x': 'v' } } })).status, 422);
      assert.equal((await patch('redis-2', MERGE, { metadata: { labels: { k: 'v'.repeat(64) } } })).status, 422);
      const typed = await patch('redis-2', MERGE, { metadata: { labels: { k: 1 } } });
      assert.equal(typed.status, 422);
      assert.equal(typed.json.details.causes[0].field, 'patch');
    },
  );
  test('P6 real change → larger RV, same uid/creationTimestamp, same generation for labels, MODIFIED', async () => {
    const before = (await call(api, 'GET', `${PODS}/redis-0`, T)).json;
    const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=${before.metadata.resourceVersion}`);
    const r = await patch('redis-0', MERGE, { metadata: { labels: { p6: String(Date.now()) } } });
    assert.ok(Number(r.json.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
    assert.equal(r.json.metadata.uid, before.metadata.uid);
    assert.equal(r.json.metadata.creationTimestamp, before.metadata.creationTimestamp);
    assert.equal(r.json.metadata.generation, before.metadata.generation);
    await w.next(1);
    assert.equal(w.events[0].type, 'MODIFIED');
    w.close();
  });
  test('P7 no-op patch → 200, RV unchanged, no watch event', async () => {
    const cur = (await call(api, 'GET', `${PODS}/redis-0`, T)).json;
    const w = await openWatch(api, `${PODS}?watch=true&resourceVersion=${cur.metadata.resourceVersion}`);
    const r = await patch('redis-0', MERGE, { metadata: { labels: { app: 'redis' } } });
    assert.equal(r.status, 200);
    assert.equal(r.json.metadata.resourceVersion, cur.metadata.resourceVersion);
    await assert.rejects(w.next(1, 500));
    w.close();
  });
  test('P8 stale resourceVersion → 409; matching RV succeeds; failing JSON Patch test on RV → 422', async () => {
    const cur = (await call(api, 'GET', `${PODS}/redis-1`, T)).json;
    const ok = await patch('redis-1', MERGE, {
      metadata: { resourceVersion: cur.metadata.resourceVersion, labels: { p8: 'a' } },
    });
    assert.equal(ok.status, 200);
    const stale = await patch('redis-1', MERGE, {
      metadata: { resourceVersion: cur.metadata.resourceVersion, labels: { p8: 'b' } },
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.reason, 'Conflict');
    assert.equal(
      stale.json.message,
      'Operation cannot be fulfilled on pods "redis-1": the object has been modified; please apply your changes to ' +
        'the latest version and try again',
    );
    assert.deepEqual(stale.json.details, { name: 'redis-1', kind: 'pods' });
    const jp = await patch('redis-1', JSONP, [
      { op: 'replace', path: '/metadata/resourceVersion', value: cur.metadata.resourceVersion },
      { op: 'replace', path: '/metadata/labels/p8', value: 'c' },
    ]);
    assert.equal(jp.status, 409);
    const test422 = await patch('redis-1', JSONP, [
      { op: 'test', path: '/metadata/resourceVersion', value: cur.metadata.resourceVersion },
    ]);
    assert.equal(test422.status, 422);
  });
  test('P9 patch of a missing object → 404; name or namespace change → 400', async () => {
    assert.equal((await patch('redis-9', MERGE, { metadata: { labels: { a: 'b' } } })).status, 404);
    assert.equal((await patch('redis-1', MERGE, { metadata: { name: 'other' } })).status, 400);
    assert.equal((await patch('redis-1', MERGE, { metadata: { namespace: 'other' } })).status, 400);
  });
  test('P10 /pods/{name} ignores status changes; /status ignores spec changes', async () => {
    const a = await patch('redis-1', MERGE, { status: { phase: 'Failed' }, metadata: { labels: { p10: 'a' } } });
    assert.equal(a.json.status.phase, 'Running');
    assert.equal(a.json.metadata.labels.p10, 'a');
    const b = await patch(
      'redis-1',
      MERGE,
      { spec: { nodeName: 'elsewhere' }, status: { phase: 'Failed' } },
      '/status',
    );
    assert.equal(b.json.spec.nodeName, 'node-1');
    assert.equal(b.json.status.phase, 'Failed');
    setPodState(api, NS, 'redis-1', { phase: 'Running', podIP: '10.0.0.2', ready: true });
  });
  test('P11 force on a non-apply patch → 422; apply patches → 415 (server-side apply not modelled)', async () => {
    const r = await call(api, 'PATCH', `${PODS}/redis-1?force=true`, { ...T, contentType: MERGE, body: {} });
    assert.equal(r.status, 422);
    assert.equal((await patch('redis-1', 'application/apply-patch+yaml', {})).status, 415);
  });
  test('P12 unknown fields in merge/SMP are dropped (200 + Warning header), not stored', async () => {
    const r = await patch('redis-1', MERGE, { metadata: { lables: { a: 'b' } }, bogus: 1 });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('warning') ?? '', /unknown field \\"metadata.lables\\"/);
    const g = (await call(api, 'GET', `${PODS}/redis-1`, T)).json;
    assert.equal(g.metadata.lables, undefined);
    assert.equal(g.bogus, undefined);
  });
});

describe('events', () => {
  const EV = `/api/v1/namespaces/${NS}/events`;
  const EV1 = `/apis/events.k8s.io/v1/namespaces/${NS}/events`;
  const coreEvent = (extra: object = {}) => ({
    metadata: { name: `redis-0.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 6)}`, namespace: NS },
    involvedObject: { kind: 'Pod', namespace: NS, name: 'redis-0', apiVersion: 'v1' },
    reason: 'Test',
    message: 'm',
    type: 'Normal',
    ...extra,
  });
  test('E1 POST → 201 with uid/resourceVersion/creationTimestamp set and nothing else filled in', async () => {
    const r = await call(api, 'POST', EV, { ...T, body: coreEvent() });
    assert.equal(r.status, 201);
    assert.ok(r.json.metadata.uid && r.json.metadata.resourceVersion && r.json.metadata.creationTimestamp);
    assert.equal(r.json.firstTimestamp, undefined);
    assert.equal(r.json.count, undefined);
    assert.equal(r.json.source, undefined);
  });
  test('E2 generateName; neither name nor generateName → 422; duplicate name → 409 AlreadyExists', async () => {
    const g = await call(api, 'POST', EV, {
      ...T,
      body: { ...coreEvent(), metadata: { generateName: 'redis-0.', namespace: NS } },
    });
    assert.match(g.json.metadata.name, /^redis-0\.[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const none = await call(api, 'POST', EV, { ...T, body: { ...coreEvent(), metadata: { namespace: NS } } });
    assert.equal(none.status, 422);
    const ev = coreEvent();
    await call(api, 'POST', EV, { ...T, body: ev });
    const dup = await call(api, 'POST', EV, { ...T, body: ev });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.reason, 'AlreadyExists');
    assert.deepEqual(dup.json.details, { name: ev.metadata.name, kind: 'events' });
  });
  test('E3 involvedObject.namespace mismatch → 422; eventTime without reporting fields → 422', async () => {
    const mis = await call(api, 'POST', EV, {
      ...T,
      body: coreEvent({ involvedObject: { kind: 'Pod', namespace: 'other', name: 'x' } }),
    });
    assert.equal(mis.status, 422);
    const et = await call(api, 'POST', EV, { ...T, body: coreEvent({ eventTime: '2026-01-01T00:00:00.000000Z' }) });
    assert.equal(et.status, 422);
    const ok = await call(api, 'POST', EV, {
      ...T,
      body: coreEvent({
        eventTime: '2026-01-01T00:00:00.000000Z',
        reportingComponent: 'x.io/launcher',
        reportingInstance: 'redis-0',
        action: 'Do',
      }),
    });
    assert.equal(ok.status, 201);
  });
  test('E4 events.k8s.io/v1: required fields, type Normal|Warning, deprecated* unset', async () => {
    const good = {
      metadata: { generateName: 'e.', namespace: NS },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'x.io/l',
      reportingInstance: 'redis-0',
      action: 'A',
      reason: 'R',
      type: 'Normal',
      regarding: { kind: 'Pod', name: 'redis-0', namespace: NS },
    };
    assert.equal((await call(api, 'POST', EV1, { ...T, body: good })).status, 201);
    for (const bad of [
      { eventTime: undefined },
      { reportingController: '' },
      { action: '' },
      { type: 'Info' },
      { deprecatedCount: 3 },
    ]) {
      const r = await call(api, 'POST', EV1, { ...T, body: { ...good, ...bad } });
      assert.equal(r.status, 422, JSON.stringify(bad));
    }
  });
  test('E5 create in a missing namespace → 404 namespaces "X" not found; namespace ≠ URL → 400', async () => {
    const r = await call(api, 'POST', '/api/v1/namespaces/ghost/events', {
      ...T,
      body: { ...coreEvent(), metadata: { name: 'a' }, involvedObject: { namespace: 'ghost' } },
    });
    assert.equal(r.status, 404);
    assert.equal(r.json.message, 'namespaces "ghost" not found');
    assert.deepEqual(r.json.details, { name: 'ghost', kind: 'namespaces' });
    const m = await call(api, 'POST', EV, {
      ...T,
      body: { ...coreEvent(), metadata: { name: 'b', namespace: 'other' } },
    });
    assert.equal(m.status, 400);
  });
});

describe('discovery', () => {
  test('D1 /api, /apis, /api/v1, /apis/<gv>, /version documents', async () => {
    assert.equal((await call(api, 'GET', '/api', T)).json.kind, 'APIVersions');
    const groups = (await call(api, 'GET', '/apis', T)).json;
    assert.deepEqual(groups.groups.map((g: any) => g.name).sort(), ['apps', 'coordination.k8s.io', 'events.k8s.io']);
    const v1 = (await call(api, 'GET', '/api/v1', T)).json;
    assert.ok(
      v1.resources.some((r: any) => r.name === 'pods' && r.shortNames[0] === 'po' && r.verbs.includes('patch')),
    );
    assert.ok(v1.resources.some((r: any) => r.name === 'pods/status'));
    const apps = (await call(api, 'GET', '/apis/apps/v1', T)).json;
    assert.equal(apps.apiVersion, 'v1');
    assert.equal(apps.resources[0].name, 'statefulsets');
    assert.equal((await call(api, 'GET', '/apis/events.k8s.io/v1', T)).json.groupVersion, 'events.k8s.io/v1');
    assert.equal((await call(api, 'GET', '/version', T)).json.gitVersion, 'v1.32.4');
  });
});
