// Password rotation without a restart. The kubelet replaces the mounted Secret's file in place; each launcher then
// moves its own server through three steps, each a plain fact about the set:
//   1. both: its server accepts the new password as well as the old one (ACL SETUSER default >new);
//   2. switched: once every pod of the set accepts the new one, the launcher's own connections, the replication
//      link (masterauth) and, for Sentinel, its auth-pass and the password it gives other Sentinels use it;
//   3. done: REDIS_PASSWORD_GRACE_MS later (clients reading the same Secret move meanwhile), the old one is
//      dropped (ACL SETUSER default <old).
// A pod that restarts meanwhile simply starts with the new password. Open connections stay authenticated.
import { readFile } from 'node:fs/promises';
import type { Address } from '../model.ts';

export type RotationPhase = 'both' | 'switched';
export type Rotation = { old: string; next: string; phase: RotationPhase; switchedAt?: number };

/** The password in the file now, if it is one the launcher would accept at start (else undefined: mid-swap). */
export async function passwordInFile(file: string): Promise<string | undefined> {
  try {
    const p = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    return p && !/[\s"']/.test(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** The next step, from what is known now; `everyoneAccepts`: every pod of the set accepts `next`. */
export function rotationStep(
  r: Rotation | undefined,
  current: string | undefined,
  inFile: string | undefined,
  everyoneAccepts: boolean,
  now: number,
  graceMs: number,
): { kind: 'start' | 'switch' | 'finish' | 'none'; reason: string } {
  if (!r) {
    if (!inFile || !current || inFile === current) return { kind: 'none', reason: 'the password did not change' };
    return { kind: 'start', reason: 'the password file changed: accepting the new password as well as the old' };
  }
  if (r.phase === 'both') {
    return everyoneAccepts
      ? { kind: 'switch', reason: 'every pod accepts the new password: switching to it' }
      : { kind: 'none', reason: 'waiting until every pod accepts the new password' };
  }
  const left = (r.switchedAt ?? now) + graceMs - now;
  return left <= 0
    ? { kind: 'finish', reason: `the grace period (${graceMs} ms) is over: dropping the old password` }
    : { kind: 'none', reason: `the old password is dropped in ${left} ms` };
}

/** Every address answers PING with this password (as the default user). */
export async function allAccept(addresses: Address[], accepts: (a: Address) => Promise<boolean>): Promise<boolean> {
  if (!addresses.length) return false;
  return (await Promise.all(addresses.map(accepts))).every(Boolean);
}
