// Redis's replies as data: ROLE, INFO and what the launcher reads from INFO. Pure parsers, no I/O.
import { canonicalHost, type InfoFacts, type RoleAnswer } from '../model.ts';

/** Parses a ROLE reply. */
export function parseRole(reply: unknown): RoleAnswer {
  if (!Array.isArray(reply)) return { answered: false };
  const [kind] = reply;
  if (kind === 'master') {
    const replicas = ((reply[2] ?? []) as unknown[][]).map((r) => ({
      host: String(r[0]),
      port: Number(r[1]),
      offset: Number(r[2]),
    }));
    return { answered: true, role: 'master', offset: Number(reply[1]), replicas };
  }
  if (kind === 'slave') {
    return {
      answered: true,
      role: 'slave',
      master: { host: canonicalHost(String(reply[1])), port: Number(reply[2]) },
      linkState: String(reply[3]),
      offset: Number(reply[4]),
    };
  }
  if (kind === 'sentinel') return { answered: true, role: 'sentinel' };
  return { answered: false };
}

/** INFO as key/value pairs (sections and comments dropped). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * A master's replicas online that acknowledged within the last 2 s (INFO slaveN … state=online … lag=N; replicas
 * ACK every second). One cut off by a partition stays listed until repl-timeout (60 s) and so does not count.
 */
export function followers(info: Record<string, string>): number {
  return Object.entries(info).filter(([k, v]) => {
    const lag = /(?:^|,)lag=(\d+)/.exec(v)?.[1];
    return /^slave\d+$/.test(k) && /(?:^|,)state=online(?:,|$)/.test(v) && lag !== undefined && Number(lag) <= 2;
  }).length;
}

export function infoFacts(info: Record<string, string>): InfoFacts {
  return {
    role: info.role,
    masterLinkStatus: info.master_link_status,
    syncInProgress: info.master_sync_in_progress === '1',
    loading: info.loading === '1' || info.async_loading === '1',
    following: followers(info),
  };
}
