// Bad input, the edges Sentinel and the kubelet hand the launcher: a table of malformed settings (empty, out of
// range, Service-link `tcp://` values), and a bounded fuzz of the argument, setting and address parsing: every
// input either parses or is refused with one line (PromoteError exit 2 / ConfigError), nothing else is thrown,
// and no input takes long (no catastrophic backtracking).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/types.ts';
import { parseConfig } from '../../src/config/parse.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { EXIT_GIVE_UP, parsePromoteArgs, PromoteError } from '../../src/sentinel/promote/args.ts';
import { seeded } from '../support/random.ts';

const base = { POD_NAME: 'redis-1', POD_NAMESPACE: 'db', POD_IP: '10.0.0.11', REDIS_POD_SELECTOR: 'app=redis' };
const noFile = () => {
  throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
};
const parse = (extra: Record<string, string>) => parseConfig({ ...base, ...extra }, { readFile: noFile });

/** Settings read as numbers, with a value below and one above their range. */
const NUMERIC: [string, string, string][] = [
  ['REDIS_PORT', '0', '65536'],
  ['SENTINEL_PORT', '0', '70000'],
  ['SENTINEL_QUORUM', '0', '1001'],
  ['SENTINEL_DOWN_AFTER_MS', '0', '86400001'],
  ['SENTINEL_FAILOVER_TIMEOUT_MS', '0', '86400001'],
  ['SENTINEL_PARALLEL_SYNCS', '0', '1001'],
  ['LAUNCHER_WAIT_TIMEOUT_MS', '999', '86400001'],
  ['REDIS_STOP_TIMEOUT_MS', '999', '3600001'],
  ['PROBE_TIMEOUT_MS', '99', '60001'],
  ['LAUNCHER_HTTP_PORT', '-1', '65536'],
  ['LAUNCHER_RECONCILE_MS', '99', '3600001'],
  ['HANDOVER_TIMEOUT_MS', '-1', '3600001'],
  ['SENTINEL_HYGIENE_MS', '99', '86400001'],
  // Below 1000 a forced failover's replica reads (every second) fail Sentinel's 3-period freshness: no candidate.
  ['SENTINEL_INFO_PERIOD_MS', '999', '10001'],
  ['REDIS_MIN_REPLICAS_TO_WRITE', '-1', '1001'],
  ['REDIS_MIN_REPLICAS_MAX_LAG', '0', '3601'],
  ['REDIS_REPLICA_PRIORITY', '-1', '1000001'],
  ['FENCE_AFTER_MS', '-1', '86400001'],
];

test('every numeric setting: empty, out of range, not a number, a Service link: one line naming it', () => {
  for (const [env, low, high] of NUMERIC) {
    assert.ok(
      SETTINGS.some((s) => s.env === env),
      `${env} is a setting`,
    );
    for (const v of [low, high, '', 'ten', '1.5', '-', '0x10', '1e3', 'tcp://10.96.0.12:6379']) {
      assert.throws(
        () => parse({ [env]: v }),
        (e: unknown) =>
          e instanceof ConfigError &&
          !e.message.includes('\n') &&
          e.message.startsWith(`${env}=${JSON.stringify(v)} `) &&
          (v.startsWith('tcp://') ? /Service link/.test(e.message) : /is invalid: expected/.test(e.message)),
        `${env}=${v}`,
      );
    }
  }
});

test('surrounding white space is forgiven (a value read from a file with its newline); unset means default', () => {
  assert.equal(parse({ REDIS_PORT: ' 6380\n' }).redisPort, 6380);
  assert.equal(parse({}).fenceAfterMs, 2500, 'FENCE_AFTER_MS defaults to half of SENTINEL_DOWN_AFTER_MS');
  assert.equal(parse({ SENTINEL_DOWN_AFTER_MS: '1000' }).fenceAfterMs, 500);
});

const PIECES = [
  '10.0.0.1',
  '::1',
  'fe80::1%eth0',
  'redis-0.redis',
  '6379',
  '0',
  '-1',
  '65536',
  'tcp://1.2.3.4:5',
  'leader',
  'observer',
  'start',
  'mymaster',
  '-x',
  '--help',
  '',
  ' ',
  '.',
  '..',
  'a'.repeat(64),
  '\u0000',
  '\n',
  '"',
  "'",
  '$(id)',
  ';',
  '=',
  ',',
  '!',
  'app=redis',
  'app in (a,b)',
  '0'.repeat(400),
  'é',
  '😀',
];

function fuzzString(rnd: () => number): string {
  const n = Math.floor(rnd() * 4);
  let s = '';
  for (let k = 0; k < n; k++) {
    s += rnd() < 0.7 ? PIECES[Math.floor(rnd() * PIECES.length)] : String.fromCharCode(Math.floor(rnd() * 0x2fff));
  }
  // now and then a long run of one character: the classic way to make a regular expression backtrack
  if (rnd() < 0.05) s += (rnd() < 0.5 ? 'a' : '-').repeat(5000) + '!';
  return s;
}

// A fixed number of inputs, not a time: how many fit in a few seconds depends on how busy the machine is.
const FUZZ_RUNS = 3000;

test('fuzz 3,000 inputs: promote arguments and settings parse or are refused in one line; none hangs', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const rnd = seeded(seed);
  let slowest = 0;
  const timed = (f: () => void) => {
    const t0 = performance.now();
    f();
    slowest = Math.max(slowest, performance.now() - t0);
  };
  for (let run = 0; run < FUZZ_RUNS; run++) {
    const args = Array.from({ length: Math.floor(rnd() * 9) }, () => fuzzString(rnd));
    if (rnd() < 0.5) args.splice(0, args.length, 'mymaster', 'leader', 'start', ...args.slice(0, 4));
    timed(() => {
      try {
        const p = parsePromoteArgs(args);
        assert.ok(p.from.port >= 1 && p.to.port <= 65535);
      } catch (e) {
        assert.ok(e instanceof PromoteError, `seed ${seed}: ${JSON.stringify(args)}: ${String(e)}`);
        assert.equal(e.exitCode, EXIT_GIVE_UP);
        assert.ok(!e.message.includes('\n') || /\\n/.test(JSON.stringify(args)), `one line: ${e.message}`);
      }
    });
    const env = SETTINGS[Math.floor(rnd() * SETTINGS.length)].env;
    const value = fuzzString(rnd);
    timed(() => {
      try {
        parse({ [env]: value });
      } catch (e) {
        assert.ok(e instanceof ConfigError, `seed ${seed}: ${env}=${JSON.stringify(value)}: ${String(e)}`);
      }
    });
  }
  // A hang, not a speed: backtracking on 5000 characters takes seconds; a GC pause or a busy machine does not.
  assert.ok(slowest < 1000, `seed ${seed}: the slowest input took ${slowest.toFixed(1)} ms`);
});
