// What launcher-promote and the Sentinel supervisor say over the local socket: Redis's own protocol (RESP), so that
// the image's hook can be `redis-cli -s <socket> --raw HOOK <args>` (no Node start at all) and the Node hook a few
// lines. Request: the command HOOK and Sentinel's arguments, as an array of bulk strings. Reply: an array of the exit
// code (an integer) and the lines for stderr (bulk strings); redis-cli --raw prints one per line.

export type HookReply = { code: number; err: string[] };

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

export const encodeRequest = (args: string[]): string =>
  `*${args.length + 1}\r\n${bulk('HOOK')}${args.map(bulk).join('')}`;

export const encodeReply = (r: HookReply): string =>
  `*${r.err.length + 1}\r\n:${r.code}\r\n${r.err.map(bulk).join('')}`;

type Item = string | number;

/**
 * One RESP array of bulk strings and integers from the start of buf: its items and how many bytes it took, or
 * undefined while it is incomplete. Anything else is a protocol error (thrown).
 */
export function parseArray(buf: Buffer): { items: Item[]; used: number } | undefined {
  let i = 0;
  const line = (): string | undefined => {
    const end = buf.indexOf('\r\n', i);
    if (end < 0) return undefined;
    const s = buf.toString('latin1', i, end);
    i = end + 2;
    return s;
  };
  const head = line();
  if (head === undefined) return undefined;
  if (!/^\*\d+$/.test(head)) throw new Error(`expected an array, got ${JSON.stringify(head.slice(0, 20))}`);
  const items: Item[] = [];
  for (let n = Number(head.slice(1)); n > 0; n--) {
    const h = line();
    if (h === undefined) return undefined;
    if (/^:-?\d+$/.test(h)) {
      items.push(Number(h.slice(1)));
    } else if (/^\$\d+$/.test(h)) {
      const len = Number(h.slice(1));
      if (buf.length < i + len + 2) return undefined;
      items.push(buf.toString('utf8', i, i + len));
      i += len + 2;
    } else {
      throw new Error(`expected a bulk string or an integer, got ${JSON.stringify(h.slice(0, 20))}`);
    }
  }
  return { items, used: i };
}
