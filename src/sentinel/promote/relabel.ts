// Relabel after a failover: once a majority of the known Sentinels names the new master and it answers ROLE master,
// its pod becomes the only one labelled master (through the label lock) and the master of record. Used by promote
// (Sentinel's client-reconfig-script) and by the Sentinel supervisor at the +switch-master event. Exit codes follow
// Sentinel's script contract: 0 done, 1 retry (transient), 2 give up.
import { setTimeout as sleep } from 'node:timers/promises';
import { isIP } from 'node:net';
import type { Config } from '../../config/types.ts';
import { apiFailure, isPermanent, type Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { listPods, sentinelTargets } from '../../kube/pods.ts';
import { currentRecord, pausedSince } from '../../kube/record.ts';
import { makeMaster } from '../make-master.ts';
import { log } from '../../runtime/log.ts';
import { untilEnough } from '../../runtime/until-enough.ts';
import {
  addr,
  podHasHost,
  sameAddress,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type PodView,
} from '../../model.ts';
import { askRole, probeOptions, sentinelMasterAddr } from '../../redis/client.ts';

import { EXIT_DONE, EXIT_GIVE_UP, EXIT_RETRY, PromoteError } from './args.ts';

export { EXIT_DONE, EXIT_GIVE_UP, EXIT_RETRY, PromoteError };

/** The pod with that address: by pod IP, or by hostname (`<pod>.<service>...`). */
export function podFor(pods: PodView[], a: Address): PodView | undefined {
  if (isIP(a.host)) return pods.find((p) => podHasHost(p, a.host));
  const first = a.host.split('.')[0];
  return pods.find((p) => p.name === first);
}

/**
 * Polls the Sentinels until a majority of the known ones names `to` (confirmed), a majority names another (stale),
 * or time runs out.
 */
async function confirm(
  c: Config,
  kube: Kube,
  to: Address,
  ms: number,
): Promise<{ verdict: 'confirmed' | 'stale' | 'unconfirmed'; text: string }> {
  const deadline = Date.now() + ms;
  const { addresses: sentinels, known } = await sentinelTargets(c, kube);
  const need = sentinelsNeeded(c.quorum, known);
  // The majority as every path counts it (model.tallySentinels), over the answers so far: a majority for `to`, or
  // for another, decides; the Sentinels still silent (partitioned) are not waited for.
  const tally = (answers: (Address | null | undefined)[]) =>
    tallySentinels(
      answers.filter((a): a is Address => Boolean(a)).map((master) => ({ reachable: true, master })),
      need,
    );
  for (;;) {
    const asks = sentinels.map((s) => sentinelMasterAddr(s, c.masterSet, probeOptions(c)));
    const answers = await untilEnough(asks, (got) => tally(got).agreed !== undefined);
    const named = answers.filter((a): a is Address => Boolean(a));
    const { agreed } = tally(answers);
    const agree = named.filter((a) => sameAddress(a, to)).length;
    const others = [...new Set(named.filter((a) => !sameAddress(a, to)).map(addr))];
    const rest = others.length ? `; others name ${others.join(', ')}` : '';
    let text = `${agree}/${known} sentinels name ${addr(to)}${rest} (${need} needed)`;
    if (agreed && sameAddress(agreed.master, to)) {
      const role = await askRole(to, probeOptions(c));
      if (role.answered && role.role === 'master') {
        return { verdict: 'confirmed', text: `${text}; it answers ROLE master` };
      }
      text += `; but it answers ${role.answered ? `ROLE ${role.role}` : 'nothing'}`;
    } else if (agreed) {
      return { verdict: 'stale', text: `${text}: a newer master, ${addr(agreed.master)}, has the quorum` };
    }
    if (Date.now() >= deadline) return { verdict: 'unconfirmed', text };
    await sleep(100);
  }
}

/**
 * The relabelling both promote and the Sentinel supervisor (at the +switch-master event) do: once a majority of the
 * Sentinels names `to` and it answers ROLE master, make its pod the only one labelled master and the master of
 * record. Exit-code semantics as promote's; throws PromoteError.
 */
export async function relabelTo(
  c: Config,
  kube: Kube,
  from: Address,
  to: Address,
  confirmMs: number,
  started = Date.now(),
): Promise<number> {
  const a = { from, to };
  try {
    const paused = await pausedSince(kube, c.masterRecord);
    const check = await confirm(c, kube, a.to, confirmMs);
    if (check.verdict === 'stale') {
      log.info(`nothing to do: ${check.text}`);
      return EXIT_DONE;
    }
    if (check.verdict === 'unconfirmed') {
      throw new PromoteError(EXIT_RETRY, `the sentinels do not confirm ${addr(a.to)} as master yet (${check.text})`);
    }
    const pods = await listPods(kube, c.podSelector);
    const pod = podFor(pods, a.to);
    if (!pod) {
      throw new PromoteError(
        EXIT_GIVE_UP,
        `no pod matching ${JSON.stringify(c.podSelector)} has the address ${a.to.host}`,
      );
    }
    // Already true (every Sentinel runs this at once, and the supervisor's event path is usually first): nothing
    // to write, so no turn at the label lock either. Otherwise the labels and the record are written under the lock,
    // after a re-check that `to` is still the master (a second failover may have come while this run waited).
    const labelled = pods.filter((p) => p.roleLabel === 'master').map((p) => p.name);
    const record = await currentRecord(kube, c.masterRecord);
    const ip = pod.ip ?? a.to.host;
    const alreadyTrue =
      (paused || (labelled.length === 1 && labelled[0] === pod.name)) && record?.pod === pod.name && record.ip === ip;
    const { demoted, promoted, refused } = alreadyTrue
      ? { demoted: [], promoted: false }
      : await makeMaster(c, kube, { name: pod.name, ip }, a.to, { paused: Boolean(paused) });
    if (refused) {
      log.info(`not labelling ${pod.name} master: ${refused}, since ${check.text}`);
      return EXIT_DONE;
    }
    if (paused) {
      // Maintenance mode freezes the labels, not the master of record: it is what a full restart elects by.
      log.info(
        `the set is paused (since ${paused}): labels left as they are for ${addr(from)} -> ${addr(to)}; ` +
          `the master of record names ${pod.name} (${check.text})`,
      );
      return EXIT_DONE;
    }
    const took = Date.now() - started;
    const what =
      promoted || demoted.length
        ? `labelled ${pod.name} master${demoted.length ? ` after removing the label from ${demoted.join(', ')}` : ''}`
        : `labels already correct (${pod.name} is master)`;
    log.info(`${what}; ${check.text}; ${took} ms`);
    if (promoted) {
      await emitEvent(
        kube,
        { name: pod.name },
        'Normal',
        'PromotedToMaster',
        `Sentinel failed over ${addr(a.from)} -> ${addr(a.to)}; ${what}`,
      );
    }
    return EXIT_DONE;
  } catch (e) {
    if (e instanceof PromoteError) throw e;
    const f = apiFailure(e);
    if (f.code === 403 || (f.code !== undefined && isPermanent(f) && f.code !== 404)) {
      throw new PromoteError(EXIT_GIVE_UP, `the API refused: ${f.message}`);
    }
    throw new PromoteError(EXIT_RETRY, `transient failure: ${f.message}`);
  }
}
