// The shape both supervisors share: a periodic cycle that never overlaps itself, never throws, and records when
// it last ran (liveness reads that to tell a stuck loop).
import { apiFailure } from './kube/api.ts';
import { log } from './log.ts';

export abstract class PeriodicLoop {
  private timer?: NodeJS.Timeout;
  private busy = false;
  lastTick = Date.now();

  protected abstract cycleOnce(): Promise<void>;

  start(everyMs: number) {
    this.timer = setInterval(() => { void this.tick(); }, everyMs);
  }

  stop() {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.lastTick = Date.now();
      await this.cycleOnce();
    } catch (e) {
      log.warn(`${this.constructor.name} cycle failed: ${apiFailure(e).message}`);
    } finally {
      this.busy = false;
      this.lastTick = Date.now();
    }
  }
}
