// `launcher promote <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`: Sentinel's
// client-reconfig-script. Runs on every Sentinel at almost the same moment, so it is idempotent and race-safe:
// it trusts the Sentinels and ROLE, not its arguments; removes `master` from every other pod before labelling
// the new one; writes with resourceVersion preconditions. Exit 0 done, 1 retry (transient), 2 give up.
import { isIP } from 'node:net';
import type { Config } from '../config.ts';
import type { Kube } from '../kube/api.ts';
import { log } from '../log.ts';
import { addr, type Address } from '../model.ts';
import { EXIT_GIVE_UP, PromoteError, relabelTo } from '../relabel.ts';

export { EXIT_DONE, EXIT_GIVE_UP, EXIT_RETRY, podFor, PromoteError } from '../relabel.ts';

export type PromoteArgs = { masterSet: string; role: string; state: string; from: Address; to: Address };

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

function parseAddress(host: string, port: string, which: string): Address {
  if (!host || !(isIP(host) || HOST_RE.test(host))) {
    throw new PromoteError(EXIT_GIVE_UP, `${which}-ip ${JSON.stringify(host)} is not an IP address or hostname`);
  }
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new PromoteError(EXIT_GIVE_UP, `${which}-port ${JSON.stringify(port)} is not a TCP port`);
  }
  return { host: host.replace(/\.$/, ''), port: Number(port) };
}

export function parsePromoteArgs(args: string[]): PromoteArgs {
  if (args.length !== 7) {
    throw new PromoteError(
      EXIT_GIVE_UP,
      `expected 7 arguments (<master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>), got ${args.length}`,
    );
  }
  const [masterSet, role, state, fromIp, fromPort, toIp, toPort] = args;
  if (role !== 'leader' && role !== 'observer') {
    throw new PromoteError(EXIT_GIVE_UP, `role ${JSON.stringify(role)} is not leader or observer`);
  }
  return { masterSet, role, state, from: parseAddress(fromIp, fromPort, 'from'), to: parseAddress(toIp, toPort, 'to') };
}

export async function promote(c: Config, kube: Kube, a: PromoteArgs): Promise<number> {
  const started = Date.now();
  if (a.masterSet !== c.masterSet) {
    throw new PromoteError(
      EXIT_GIVE_UP,
      `unknown master set ${JSON.stringify(a.masterSet)}: this launcher manages ${JSON.stringify(c.masterSet)} ` +
        `(REDIS_MASTER_SET)`,
    );
  }
  log.info(`promote (${a.role}, ${a.state}): ${addr(a.from)} -> ${addr(a.to)}`);
  return relabelTo(c, kube, a.from, a.to, 15_000, started);
}
