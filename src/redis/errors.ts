// What went wrong when Redis or Sentinel was asked something, as data: the error reply's code (its first word, as
// Redis writes it: LOADING, MASTERDOWN, INPROG, READONLY, NOAUTH, ...) or, when no reply came, that it did not
// answer. The one place error messages are read; everything else matches on `code`.
export type RedisFailure = {
  /** The reply's error code; 'UNANSWERED' when there was no reply (refused, timed out, closed). */
  code: string;
  /** Sentinel's `-ERR No such master with that name`: the set is not monitored there. */
  noSuchMaster: boolean;
  message: string;
};

export function redisFailure(e: unknown): RedisFailure {
  const message = String((e as Error | undefined)?.message ?? e);
  const reply = (e as Error | undefined)?.name === 'ReplyError' || /^[A-Z]+ /.test(message);
  const code = reply ? (/^([A-Z][A-Z_]*)\b/.exec(message)?.[1] ?? 'ERR') : 'UNANSWERED';
  return { code, noSuchMaster: /No such master/i.test(message), message };
}

/** The server is up but busy: loading its dataset, or a replica whose master is down (replica-serve-stale-data no). */
export const aliveButBusy = (f: RedisFailure) => f.code === 'LOADING' || f.code === 'MASTERDOWN';
