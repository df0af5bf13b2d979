// The master's fence, on its own loop: every second, while this pod is master (or fenced), it asks the Sentinels
// whether a majority still names it, and pauses writes (CLIENT PAUSE WRITE, renewed every tick) once none has for
// FENCE_AFTER_MS. It runs beside the supervisor's loop rather than inside it, so a full cycle slowed down by peers
// that do not answer (a partition: every probe runs to its timeout) cannot hold the fence back. It fails safe: an
// applied fence is renewed first in every cycle, before anything is asked of the API, and when the API cannot say
// which Sentinels exist the fence judges by the Sentinels it last knew (a node cut off from the other pods and from
// the API is the partition the fence is for).
import type { Config } from '../../config/types.ts';
import { API_TIMEOUT_MS, apiFailure, type Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { sentinelTargets } from '../../kube/pods.ts';
import { currentRecord } from '../../kube/record.ts';
import { log } from '../../runtime/log.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';
import type { RedisMetrics } from '../../runtime/metrics.ts';
import { addr, sameAddress, type Address } from '../../model.ts';
import { askSentinels } from '../observe.ts';
import { fence, sentinelMaster, votersElsewhere } from '../rules/reconcile.ts';
import { askRole, followers, localRedis, parseInfo, probeOptions, withRedis } from '../../redis/client.ts';

export class FenceLoop extends PeriodicLoop {
  private readonly c: Config;
  private readonly kube: Kube;
  private readonly metrics: RedisMetrics;
  private readonly tickMs: number;
  private readonly local: Address;
  private readonly self: Address;
  /** When a majority of the Sentinels last named this pod master, while it is master. */
  private lastConfirmedAt?: number;
  /** Writes are paused by this fence. */
  private fenced = false;
  /** Stopped for good by the handover: no more pauses or unpauses. */
  private halted = false;
  /** The pause or unpause under way, if any. */
  private acting: Promise<void> = Promise.resolve();
  /** The Sentinels the API last listed: what the fence judges by while the API does not answer. */
  private lastTargets?: { addresses: Address[]; known: number };

  constructor(c: Config, kube: Kube, metrics: RedisMetrics, tickMs: number) {
    super();
    this.c = c;
    this.kube = kube;
    this.metrics = metrics;
    this.tickMs = tickMs;
    this.local = localRedis(c);
    this.self = { host: c.podIp, port: c.redisPort };
  }

  start(everyMs: number) {
    if (this.c.fenceAfterMs) super.start(everyMs);
  }

  /**
   * Stops the loop for good (the SIGTERM handover, which pauses and unpauses writes itself from then on): no cycle
   * under way sends CLIENT PAUSE or UNPAUSE any more, and one already sent has been answered when this resolves.
   */
  async halt(): Promise<void> {
    this.halted = true;
    this.stop();
    await this.acting;
  }

  /** Sends a pause or unpause unless the loop was halted; halt() waits for one under way. */
  private act(command: string[]): Promise<boolean> {
    if (this.halted) return Promise.resolve(false);
    const sent = withRedis(this.local, probeOptions(this.c), (r) => r.call('CLIENT', ...command)).then(() => true);
    this.acting = sent.then(
      () => {},
      () => {},
    );
    return sent;
  }

  protected async cycleOnce(): Promise<void> {
    const local = await askRole(this.local, probeOptions(this.c));
    const isMaster = local.answered && local.role === 'master';
    if (!isMaster) this.lastConfirmedAt = undefined;
    if (!isMaster && !this.fenced) return;
    // An applied fence is renewed before anything else: no API call below can make it lapse.
    if (this.fenced && isMaster) await this.pause();
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
    const confirmed = Boolean(s.master && sameAddress(s.master, this.self));
    const now = Date.now();
    if (confirmed) this.lastConfirmedAt = now;
    const answering = views.filter((v) => v.reachable).length;
    const named = s.master ? `name ${addr(s.master)}` : `agree on no master${s.busy ? ` (${s.busy})` : ''}`;
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
    if (a.kind === 'none') return;
    // Maintenance mode: observe and report, take no action.
    const paused = (await currentRecord(this.kube, this.c.masterRecord).catch(() => null))?.paused;
    if (paused) return;
    if (a.kind === 'fence') {
      if (!(await this.pause())) return;
      if (this.fenced) return;
      this.fenced = true;
      this.metrics.fenced.set(1);
      log.warn(`fenced: ${a.reason}`);
      void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'Fenced', a.reason);
      return;
    }
    if (!(await this.act(['UNPAUSE']))) return;
    this.fenced = false;
    this.metrics.fenced.set(0);
    log.info(`unfenced: ${a.reason}; writes resume`);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'Unfenced', `${a.reason}; writes resume`);
  }

  /**
   * Pauses writes for long enough to outlast the slowest cycle (a ROLE, the Sentinels and two API calls to their
   * timeouts): renewed every cycle, it ends on its own only if this launcher stops renewing it (it died).
   */
  private pause(): Promise<boolean> {
    const ms = 3 * this.tickMs + 4 * this.c.probeTimeoutMs + 2 * API_TIMEOUT_MS;
    return this.act(['PAUSE', String(ms), 'WRITE']);
  }
}
