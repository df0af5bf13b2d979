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

/** The fence's renewal: each pauses writes for 3 s, every 500 ms (a renewal may be 2.5 s late before it lapses). */
export const FENCE_PAUSE = { pauseMs: 3000, everyMs: 500 };

/** One CLIENT PAUSE <ms> WRITE: extends the server's pause to at least ms from now. */
export const pauseWrites = (a: Address, ms: number, o: ProbeOptions): Promise<void> =>
  withRedis(a, o, (r) => r.call('CLIENT', 'PAUSE', String(Math.ceil(ms)), 'WRITE')).then(() => {});

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

  /** Pauses now and keeps renewing until release(). True once the first pause was answered. */
  async hold(): Promise<boolean> {
    if (!this.timer) {
      this.timer = setInterval(() => {
        void this.renew();
      }, this.everyMs);
    }
    return this.renew();
  }

  /** Renews no more (writes resume when the last pause lapses); a renewal under way has been answered. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sending;
  }

  private renew(): Promise<boolean> {
    if (this.sending) return this.sending;
    const sent = pauseWrites(this.target, this.pauseMs, this.o).then(
      () => true,
      () => false,
    );
    this.sending = sent.finally(() => (this.sending = undefined));
    return this.sending;
  }
}
