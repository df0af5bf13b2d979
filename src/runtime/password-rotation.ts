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
import { log } from './log.ts';

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

/** One server's part in a rotation: who must accept the next password first, and its own three steps. */
export type RotationSide = {
  /** Which server this is, for the log and Events: `Redis` or `Sentinel`. */
  server: string;
  /** The password in use now. */
  current(): string | undefined;
  /** Every server that must accept `next` before anyone switches to it does. */
  everyoneAccepts(next: string): Promise<boolean>;
  accept(next: string): Promise<void>;
  switchTo(next: string): Promise<void>;
  dropOld(old: string): Promise<void>;
};

/** How often the mounted password file is read for a change. */
export const PASSWORD_CHECK_MS = 2000;

/**
 * The one rotation loop, for the Redis container and the Sentinel container alike: every PASSWORD_CHECK_MS it
 * reads the file, works out the next step (rotationStep) and has the side take it; a step the server refuses is
 * tried again on the next check. Each step taken is logged and told in a Normal Event.
 */
export class PasswordRotator {
  private readonly file: string;
  private readonly graceMs: number;
  private readonly side: RotationSide;
  private readonly tell: (reason: string) => void;
  private rotation?: Rotation;
  private checkedAt = 0;
  private busy = false;

  constructor(file: string, graceMs: number, side: RotationSide, tell: (reason: string) => void) {
    this.file = file;
    this.graceMs = graceMs;
    this.side = side;
    this.tell = tell;
  }

  /** One check, unless the last was under PASSWORD_CHECK_MS ago or is still running. */
  async check(now = Date.now()): Promise<void> {
    if (this.busy || now - this.checkedAt < PASSWORD_CHECK_MS) return;
    this.busy = true;
    this.checkedAt = now;
    try {
      await this.step();
    } finally {
      this.busy = false;
    }
  }

  private async step(): Promise<void> {
    const r = this.rotation;
    const inFile = await passwordInFile(this.file);
    const everyone = r?.phase === 'both' ? await this.side.everyoneAccepts(r.next) : false;
    const current = this.side.current();
    const step = rotationStep(r, current, inFile, everyone, Date.now(), this.graceMs);
    try {
      if (step.kind === 'start' && inFile && current) {
        await this.side.accept(inFile);
        this.rotation = { old: current, next: inFile, phase: 'both' };
      } else if (step.kind === 'switch' && r) {
        await this.side.switchTo(r.next);
        r.phase = 'switched';
        r.switchedAt = Date.now();
      } else if (step.kind === 'finish' && r) {
        await this.side.dropOld(r.old);
        this.rotation = undefined;
      } else {
        return;
      }
    } catch (e) {
      const refused = (e as Error).message;
      log.warn(`password rotation: ${step.reason}, but ${this.side.server} refused: ${refused}; trying again`);
      return;
    }
    this.tell(step.reason);
  }
}
