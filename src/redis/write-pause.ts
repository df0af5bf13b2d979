// Pausing a master's writes (CLIENT PAUSE WRITE), the one way the product does it. Redis keeps a single pause for
// every client that sends CLIENT PAUSE (a new one only ever extends it) and CLIENT UNPAUSE ends it for all of them:
// an UNPAUSE sent to end the fence would also end a switchover's pause, and the writes it held would be
// acknowledged by a master about to be replaced. So a pause on a master ends only by lapsing: it is held by
// renewing a short pause, and released by no longer renewing it. CLIENT UNPAUSE goes only to a server that answers
// ROLE slave (sentinel/failover.ts): the paused writes then fail with READONLY instead of waiting.
// A pause also holds up Sentinel: its hello PUBLISH counts as a write, and its PINGs queue behind it, so a pause
// longer than down-after-milliseconds makes the master subjectively down. Planned pauses stay short.
import type { Address } from '../model.ts';
import { withRedis, type ProbeOptions } from './client.ts';

/**
 * The fence's renewal: half of down-after-milliseconds, 2 to 3 s, renewed every 250 ms, so that only a launcher
 * stalled for 2 s or more lets it lapse (a partition on a loaded node: 1 s pauses renewed every 250 ms did lapse
 * once, test/survival/partition.test.ts). Lifting the fence waits for it to lapse.
 */
export function fencePause(downAfterMs: number): { pauseMs: number; everyMs: number } {
  return { pauseMs: Math.min(3000, Math.max(2000, Math.floor(downAfterMs / 2))), everyMs: 250 };
}

/** One CLIENT PAUSE <ms> WRITE: extends the server's pause to at least ms from now. */
export const pauseWrites = (a: Address, ms: number, o: ProbeOptions): Promise<void> =>
  withRedis(a, o, (r) => r.call('CLIENT', 'PAUSE', String(Math.ceil(ms)), 'WRITE')).then(() => {});

/**
 * No more replication PINGs from a master that is handing over and will not serve again (SIGTERM): Redis sends its
 * replicas one every repl-ping-replica-period, pause or not, and one that reaches a replica after another was
 * promoted puts it ahead of the new master, which then must send it everything again (a full resync). The period
 * is Redis's largest: a PING goes out when its count of once-a-second cron runs is a multiple of it, so none comes
 * again.
 */
export const stopReplicationPings = (a: Address, o: ProbeOptions): Promise<void> =>
  withRedis(a, o, (r) => r.call('CONFIG', 'SET', 'repl-ping-replica-period', String(2 ** 31 - 1))).then(() => {});

/** A write pause held by renewal: released, it lapses within pauseMs; nothing else ends it early. */
export class RenewedPause {
  private readonly target: Address;
  private readonly o: ProbeOptions;
  /** How long each renewal pauses writes for: how long writes stay paused after the last one. */
  readonly pauseMs: number;
  private readonly everyMs: number;
  private timer?: NodeJS.Timeout;
  /** The renewal under way, if any (never two at once). */
  private sending?: Promise<boolean>;

  constructor(target: Address, o: ProbeOptions, every: { pauseMs: number; everyMs: number }) {
    this.target = target;
    this.o = o;
    this.pauseMs = every.pauseMs;
    this.everyMs = every.everyMs;
  }

  get held(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Pauses now and keeps renewing until release(). True once the pause was answered; a first pause that failed
   * leaves nothing renewing.
   */
  async hold(): Promise<boolean> {
    const wasHeld = this.held;
    if (!this.timer) {
      this.timer = setInterval(() => {
        void this.renew();
      }, this.everyMs);
    }
    // The first pause may take the whole probe timeout (a new connection on a loaded node): nothing lapses before it.
    const ok = await this.renew(wasHeld ? undefined : this.o.timeoutMs);
    if (!ok && !wasHeld) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return ok;
  }

  /** Renews no more (writes resume when the last pause lapses); a renewal under way has been answered. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sending;
  }

  private renew(timeoutMs?: number): Promise<boolean> {
    if (this.sending) return this.sending;
    // A renewal that hangs must not hold up the next one for long: it gives up after two periods.
    const o = { ...this.o, timeoutMs: timeoutMs ?? Math.min(this.o.timeoutMs, 2 * this.everyMs) };
    const sent = pauseWrites(this.target, this.pauseMs, o).then(
      () => true,
      () => false,
    );
    this.sending = sent.finally(() => (this.sending = undefined));
    return this.sending;
  }
}
