// `npm run sandbox` as a user runs it, to the end of its tour (--exit): once with --tls (a throw-away CA),
// --password (Redis and Sentinel require one) and IPv6 pods in network namespaces where the machine allows them
// (as CI does), on loopback otherwise; once with two sets on dedicated Sentinels, by hostnames where it can; once in
// cluster mode on Valkey 8.0 (--engine valkey). It
// must boot, fail over, bring the old master back and count every key, print the on-call view, and leave no
// process or namespace behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO } from '../support/cluster.ts';
import { valkeyMissing } from '../support/engines.ts';
import { Network } from '../support/netns.ts';

test('the sandbox tour runs to its end over TLS with a password, and cleans up (IPv6 pods where allowed)', async () => {
  const ipv6 = !Network.unavailable();
  const args = [join(REPO, 'test/sandbox/main.ts'), '--exit', '--tls', '--password', ...(ipv6 ? ['--ipv6'] : [])];
  const run = execa(process.execPath, args, { all: true, reject: false, timeout: 180_000, cwd: REPO });
  const pid = run.pid;
  const r = await run;
  const out = r.all ?? '';
  assert.equal(r.exitCode, 0, out.split('\n').slice(-30).join('\n'));
  assert.match(out, ipv6 ? /in network namespaces with IPv6 addresses, TLS only/ : /on loopback, TLS only/);
  assert.match(
    out,
    /REDISCLI_AUTH="\$\(cat \S+\/password\)" redis-cli --tls --cacert \S+\/ca\.crt -h /,
    'the redis-cli command to connect over TLS with the password (read from its file, never printed)',
  );
  assert.match(out, /labels flipped \(redis-\d master, redis-\d not\)/);
  assert.equal(out.match(/: 1000\/1000 keys/g)?.length, 3, 'every pod has every key');
  assert.match(out, /summary.*no key lost\./);
  assert.match(out, /verdict: healthy/);
  if (ipv6) {
    assert.match(out, /sentinels: \[fd[0-9a-f]{2}:/);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.doesNotMatch(left, new RegExp(`^rhl${pid}n`, 'm'), 'no namespace left behind');
  }
});

const twoSets =
  'the sandbox tour runs for two sets on dedicated Sentinels, by hostnames where pods have their own network';
test(twoSets, async () => {
  const own = !Network.unavailable();
  const args = [join(REPO, 'test/sandbox/main.ts'), '--exit', '--sets', '2', '--dedicated-sentinels', '--hostnames'];
  const r = await execa(process.execPath, args, { all: true, reject: false, timeout: 240_000, cwd: REPO });
  const out = r.all ?? '';
  assert.equal(r.exitCode, 0, out.split('\n').slice(-30).join('\n'));
  assert.match(out, /2 set\(s\) of 3 Redis pods, watched by 3 dedicated Sentinel pods/);
  assert.match(out, own ? /known by DNS names/ : /--hostnames needs pods with their own network, .*: using IPs/);
  for (const set of ['redis-a', 'redis-b']) {
    assert.match(out, new RegExp(`tour 4/4 \\(${set}\\)`));
    assert.match(out, new RegExp(`SENTINEL get-master-addr-by-name ${set}`));
  }
  assert.equal(out.match(/the other sets' master labels did not move/g)?.length, 2, 'no cross-talk');
  assert.equal(out.match(/: 1000\/1000 keys/g)?.length, 6, 'every pod of both sets has every key');
  assert.match(out, /monitors redis-a,redis-b/, 'the table shows what each Sentinel monitors');
  if (own) assert.match(out, /Sentinel switch to redis-[ab]-\d\.redis-[ab]-headless\.redis\.svc\.cluster\.local:6379/);
  assert.equal(out.match(/verdict: healthy/g)?.length, 2);
});

const clusterTour =
  'the sandbox tour of cluster mode on Valkey runs to its end: formed, takeover, back under its node ID';
test(clusterTour, { skip: valkeyMissing() }, async () => {
  const args = [join(REPO, 'test/sandbox/main.ts'), '--exit', '--cluster', '--engine', 'valkey'];
  const r = await execa(process.execPath, args, { all: true, reject: false, timeout: 240_000, cwd: REPO });
  const out = r.all ?? '';
  assert.equal(r.exitCode, 0, out.split('\n').slice(-30).join('\n'));
  assert.match(out, /on valkey 8\.0 \(bookworm-backports\)/);
  assert.match(out, /connect\S*: \S+\/valkey-cli -c -h /);
  assert.match(out, /formed: cluster_state:ok on every pod, 16384 slots/);
  assert.match(out, /kill -> redis-\d took over: \d+ ms; kill -> redis-\d labelled master: \d+ ms/);
  assert.match(out, /back at \S+ after \d+ ms: node [0-9a-f]{8} \(the same ID\), a replica/);
  assert.match(out, /SIGTERM -> redis-\d took over: \d+ ms/);
  assert.match(out, /verdict: healthy \(3 masters, 16384 slots served\)/);
  assert.match(out, /10000\/10000 keys/);
  assert.match(out, /summary: .*no key lost; same node ID after a new IP: true\./);
});
