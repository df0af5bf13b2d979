// How often this Sentinel reads its masters' and replicas' INFO: SENTINEL_INFO_PERIOD_MS (1 s by default; Sentinel's
// own is 10 s). In a failover Sentinel reads the replicas every second counted from the last read, and the read it
// sends as the failover starts comes just before its SLAVEOF NO ONE: the promotion was seen a full second later,
// the longest part of a planned handover's write gap. At 1 s throughout, the next read is due anywhere in that
// second (npm run bench: the planned handover's median gap). Sentinel keeps the value only while it runs, so it is
// set once Sentinel answers; one whose Sentinel cannot (before 7.0) keeps 10 s, told once.
import type { Config } from '../../config/types.ts';
import { redisFailure } from '../../redis/errors.ts';
import { forSentinel, localSentinel, probeOptions, withRedis } from '../../redis/client.ts';
import { log } from '../../runtime/log.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';

/** How often Sentinel is asked until it has answered (it starts within moments of the launcher). */
const TRY_EVERY_MS = 250;
/** After how many unanswered tries that is told (once): a TLS or address problem, not a slow start. */
const TELL_AFTER_TRIES = 40;

export class SentinelInfoPeriod extends PeriodicLoop {
  private readonly c: Config;
  private tries = 0;

  constructor(c: Config) {
    super();
    this.c = c;
  }

  start() {
    super.start(TRY_EVERY_MS);
  }

  protected async cycleOnce(): Promise<void> {
    const ms = String(this.c.sentinelInfoPeriodMs);
    try {
      await withRedis(localSentinel(this.c), forSentinel(probeOptions(this.c)), (r) =>
        r.call('SENTINEL', 'DEBUG', 'INFO-PERIOD', ms),
      );
      log.info(`Sentinel reads its instances' INFO every ${ms} ms`);
      this.stop();
    } catch (e) {
      const f = redisFailure(e);
      if (f.code === 'UNANSWERED') {
        // Not up yet: next try.
        if (++this.tries === TELL_AFTER_TRIES) log.warn(`cannot set Sentinel's INFO period yet: ${f.message}`);
        return;
      }
      log.warn(`Sentinel keeps its own INFO period (10 s): SENTINEL DEBUG INFO-PERIOD ${ms}: ${f.message}`);
      this.stop();
    }
  }
}
