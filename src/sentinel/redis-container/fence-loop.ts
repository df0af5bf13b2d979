// The master's fence, on its own loop: every second, while this pod is master (or fenced), it asks the Sentinels
// whether a majority still names it, and pauses writes once none has for FENCE_AFTER_MS. It runs beside the
// supervisor's loop rather than inside it, so a full cycle slowed down by peers that do not answer (a partition:
// every probe runs to its timeout) cannot hold the fence back. It fails safe: the pause is renewed on a timer of its
// own (redis/write-pause.ts), which no slow cycle or API call holds up, and when the API cannot say which Sentinels
// exist the fence judges by the Sentinels it last knew (a node cut off from the other pods and from the API is the
// partition the fence is for). Lifting the fence stops the renewals: the pause lapses within 1 to 3 s, and
// a pause someone else holds (a switchover's) is left alone.
import type { Config } from '../../config/types.ts';
import { apiFailure, type Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { sentinelTargets } from '../../kube/pods.ts';
import { readRecord } from '../../kube/record.ts';
import { log } from '../../runtime/log.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';
import type { RedisMetrics } from '../../runtime/metrics.ts';
import { addr, type Address } from '../../model.ts';
import { askSentinels } from '../observe.ts';
import { sentinelMaster } from '../rules/reconcile.ts';
import { fence, fenceConfirmed, votersElsewhere } from '../rules/fence.ts';
import { askRole, localRedis, probeOptions, withRedis } from '../../redis/client.ts';
import { followers, parseInfo } from '../../redis/replies.ts';
import { fencePause, RenewedPause } from '../../redis/write-pause.ts';

export class FenceLoop extends PeriodicLoop {
  private readonly c: Config;
  private readonly kube: Kube;
  private readonly metrics: RedisMetrics;
  private readonly local: Address;
  private readonly self: Address;
  /** When a majority of the Sentinels last named this pod master, while it is master. */
  private lastConfirmedAt?: number;
  /** Writes are paused by this fence. */
  private fenced = false;
  /** Stopped for good by the handover: no more pauses. */
  private halted = false;
  /** The fence's write pause, renewed while fenced. */
  private readonly pause: RenewedPause;
  /** The Sentinels the API last listed: what the fence judges by while the API does not answer. */
  private lastTargets?: { addresses: Address[]; known: number };

  constructor(c: Config, kube: Kube, metrics: RedisMetrics) {
    super();
    this.c = c;
    this.kube = kube;
    this.metrics = metrics;
    this.local = localRedis(c);
    this.pause = new RenewedPause(this.local, probeOptions(c), fencePause(c.downAfterMs));
    this.self = { host: c.podHost, port: c.redisPort };
  }

  start(everyMs: number) {
    if (this.c.fenceAfterMs) super.start(everyMs);
  }

  /**
   * Stops the loop for good (the SIGTERM handover, which pauses writes itself from then on): no more cycles or
   * renewals; a renewal already sent has been answered when this resolves. A fence's pause lapses by itself.
   */
  async halt(): Promise<void> {
    this.halted = true;
    this.stop();
    await this.pause.release();
  }

  protected async cycleOnce(): Promise<void> {
    const local = await askRole(this.local, probeOptions(this.c));
    const isMaster = local.answered && local.role === 'master';
    if (!isMaster) this.lastConfirmedAt = undefined;
    // A replica's writes fail anyway: whatever the verdict or maintenance mode, nothing is renewed on it.
    if (!isMaster && this.pause.held) await this.pause.release();
    if (!isMaster && !this.fenced) return;
    // Which Sentinels exist comes from the API (its watch); while it does not answer, the ones last listed.
    let stale = '';
    const targets = await sentinelTargets(this.c, this.kube).then(
      (t) => (this.lastTargets = t),
      (e: unknown) => {
        stale = `; the API does not answer (${apiFailure(e).message}): judged by the Sentinels last listed`;
        return this.lastTargets;
      },
    );
    if (!targets) return; // the API never answered: nothing to judge by yet
    const { views, known } = await askSentinels(this.c, targets);
    const s = sentinelMaster(views, this.c.quorum, known);
    const confirmed = fenceConfirmed(views, this.self, this.c.quorum, known);
    const now = Date.now();
    if (confirmed) this.lastConfirmedAt = now;
    const answering = views.filter((v) => v.reachable).length;
    const named = s.master
      ? `name ${addr(s.master)}`
      : confirmed
        ? `name this pod (a majority; others fail an old address over, which they cannot win)`
        : `agree on no master${s.busy ? ` (${s.busy})` : ''}`;
    const words = `${answering} of ${s.known} known sentinels answer, ${s.count} ${named}, ${s.need} needed${stale}`;
    // Replicas that acknowledged within 2 s (INFO), asked only when it matters: every Sentinel silent.
    const sentinelsDown = this.c.sentinelSidecar && answering === 0;
    const following = sentinelsDown
      ? await withRedis(this.local, probeOptions(this.c), (r) => r.call('INFO', 'replication')).then(
          (i) => followers(parseInfo(String(i))),
          () => 0,
        )
      : 0;
    const a = fence({
      isMaster,
      confirmed,
      elsewhere: { voters: votersElsewhere(views, this.self, s.known), need: s.need },
      lastConfirmedAt: this.lastConfirmedAt,
      now,
      fenceAfterMs: this.c.fenceAfterMs,
      fenced: this.fenced,
      sentinels: words,
      sentinelsDown,
      following,
    });
    if (a.kind === 'none') {
      if (!this.fenced && this.pause.held) await this.pause.release();
      return;
    }
    // Maintenance mode: observe and report, take no action.
    // Read fresh: a resume lost in a stream cut without a close would otherwise keep the fence off for a while.
    const paused = (await readRecord(this.kube, this.c.masterRecord).catch(() => null))?.paused;
    if (paused) return;
    if (a.kind === 'fence') {
      if (this.halted || !(await this.pause.hold())) return;
      if (this.fenced) return;
      this.fenced = true;
      this.metrics.fenced.set(1);
      log.warn(`fenced: ${a.reason}`);
      void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'Fenced', a.reason);
      return;
    }
    await this.pause.release();
    this.fenced = false;
    this.metrics.fenced.set(0);
    const resume = `writes resume within ${this.pause.pauseMs} ms`;
    log.info(`unfenced: ${a.reason}; ${resume}`);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'Unfenced', `${a.reason}; ${resume}`);
  }
}
