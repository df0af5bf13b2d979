// What `launcher promote` takes and gives back, with nothing heavy imported: its arguments (Sentinel's seven), its
// exit codes (Sentinel retries 1, not 2) and its error. The CLI loads this for every command; the rest of promote
// only when it runs.
import { isIP } from 'node:net';
import { canonicalHost, type Address } from '../../model.ts';

export const EXIT_DONE = 0;
export const EXIT_RETRY = 1;
export const EXIT_GIVE_UP = 2;

export class PromoteError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

export type PromoteArgs = { masterSet: string; role: string; state: string; from: Address; to: Address };

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

function parseAddress(host: string, port: string, which: string): Address {
  if (!host || !(isIP(host) || HOST_RE.test(host))) {
    throw new PromoteError(EXIT_GIVE_UP, `${which}-ip ${JSON.stringify(host)} is not an IP address or hostname`);
  }
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new PromoteError(EXIT_GIVE_UP, `${which}-port ${JSON.stringify(port)} is not a TCP port`);
  }
  return { host: canonicalHost(host.replace(/\.$/, '')), port: Number(port) };
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
