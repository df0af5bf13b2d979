// Raw HTTP helpers for driving the stand-in in its conformance tests.
import { DEFAULT_TOKEN, type KubeStandin } from './server.ts';

export type RawReply = { status: number; headers: Headers; text: string; json: any };

export async function call(
  api: KubeStandin,
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string; token?: string | null } = {},
): Promise<RawReply> {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? DEFAULT_TOKEN}`;
  if (opts.contentType) headers['content-type'] = opts.contentType;
  const res = await fetch(api.url + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Opens a watch and collects its events; `next(n)` waits (with a deadline) until n events have arrived. */
export async function openWatch(api: KubeStandin, path: string) {
  const ac = new AbortController();
  const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` }, signal: ac.signal });
  const events: any[] = [];
  const rawLines: string[] = [];
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  void (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          rawLines.push(line);
          events.push(JSON.parse(line));
          wake();
        }
      }
    } catch {
      /* aborted */
    }
    ended = true;
    wake();
  })();
  const until = async (pred: () => boolean, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `watch: condition not met in ${ms} ms; events so far: ${JSON.stringify(events.map((e) => e.type))}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  return {
    status: res.status,
    headers: res.headers,
    events,
    rawLines,
    get ended() {
      return ended;
    },
    next: (n: number, ms?: number) => until(() => events.length >= n, ms),
    end: (ms?: number) => until(() => ended, ms),
    close: () => ac.abort(),
  };
}
