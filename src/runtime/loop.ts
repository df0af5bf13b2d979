// The shape both supervisors share: a periodic cycle that never overlaps itself, never throws, and records when
// it last ran (liveness reads that to tell a stuck loop).
import { apiFailure } from '../kube/api.ts';
import { log } from './log.ts';

/** How often the supervisors' cycles run (their reconcile and fence loops, the cluster supervisor's). */
export const TICK_MS = 1000;

export abstract class PeriodicLoop {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private lastTick = 0;
  /** The cycle running, if one is. */
  private current?: Promise<void>;

  protected abstract cycleOnce(): Promise<void>;

  start(everyMs: number) {
    this.lastTick = Date.now();
    this.timer = setInterval(() => {
      void this.tick();
    }, everyMs);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops, then lets a cycle still running finish (for at most `ms`): nothing it does comes after what follows. */
  async stopAndSettle(ms: number): Promise<void> {
    this.stop();
    if (this.current) await Promise.race([this.current, new Promise((r) => setTimeout(r, ms).unref())]);
  }

  /** How long the running loop has not completed a cycle, if longer than maxMs. Not started or stopped: never stuck. */
  stuckFor(maxMs: number): number | undefined {
    if (!this.timer) return undefined;
    const idle = Date.now() - this.lastTick;
    return idle > maxMs ? idle : undefined;
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.lastTick = Date.now();
      this.current = this.cycleOnce();
      await this.current;
    } catch (e) {
      log.warn(`${this.constructor.name} cycle failed: ${apiFailure(e).message}`);
    } finally {
      this.current = undefined;
      this.busy = false;
      this.lastTick = Date.now();
    }
  }
}
