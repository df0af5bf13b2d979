// What a data dir holds, judged by content: whether Redis has a dataset to load, and how many bytes a restart
// loads. Read-only.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether an RDB file (or an AOF's RDB preamble) holds anything beyond its header: Redis writes only aux fields and
 * EOF for an empty dataset, and a SELECTDB (or function, module) opcode before the first key otherwise. Unreadable
 * or unknown content counts as data: it is not for the launcher to call it empty.
 */
export function rdbHasData(buf: Buffer): boolean {
  if (buf.length < 9 || buf.toString('latin1', 0, 5) !== 'REDIS') return true;
  let i = 9;
  const length = (): number => {
    const b = buf[i++];
    const kind = b >> 6;
    if (kind === 0) return b & 0x3f;
    if (kind === 1) return ((b & 0x3f) << 8) | buf[i++];
    if (b === 0x80) return ((i += 4), buf.readUInt32BE(i - 4));
    if (b === 0x81) return ((i += 8), Number(buf.readBigUInt64BE(i - 8)));
    throw new Error('special encoding');
  };
  const skipString = () => {
    const b = buf[i];
    if (b >> 6 !== 3) {
      const n = length(); // (not `i += length()`: that would add to i as it was before length() moved it)
      i += n;
      return;
    }
    i++;
    const enc = b & 0x3f;
    if (enc === 3) {
      const compressed = length();
      length();
      i += compressed;
    } else i += [1, 2, 4][enc] ?? 0;
  };
  try {
    while (i < buf.length) {
      const op = buf[i++];
      if (op === 0xff) return false; // EOF right after the aux fields: no key
      if (op !== 0xfa) return true; // SELECTDB, RESIZEDB, FUNCTION, MODULE_AUX: there is data
      skipString();
      skipString();
    }
  } catch {
    return true;
  }
  return true;
}

/** The first 64 KiB of a file (all a header check needs), or undefined when it cannot be read. */
async function head(p: string): Promise<Buffer | undefined> {
  try {
    const fh = await open(p, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** A persistence file that holds a dataset: an RDB (or an AOF's RDB preamble) with a key, or an AOF of commands. */
async function holds(p: string): Promise<boolean> {
  const buf = await head(p);
  if (!buf?.length) return false;
  return buf.toString('latin1', 0, 5) === 'REDIS' ? rdbHasData(buf) : true;
}

/** The AOF files of the dir: the single file of older layouts, and the parts in appendonlydir (Redis 7). */
async function aofFiles(dir: string): Promise<string[]> {
  let parts: string[] = [];
  try {
    parts = (await readdir(join(dir, 'appendonlydir')))
      .filter((f) => /\.(base\.(rdb|aof)|incr\.aof)$/.test(f))
      .map((f) => join(dir, 'appendonlydir', f));
  } catch {
    /* no AOF directory */
  }
  return [join(dir, 'appendonly.aof'), ...parts];
}

/**
 * What Redis will load from the data dir, judged by content. With `appendonly yes` Redis loads only the AOF (and
 * creates an empty one when there is none), never dump.rdb: so an AOF holding data is the dataset ('aof'). A dir
 * whose AOF holds nothing but whose dump.rdb holds keys (a restore from an RDB backup, a move from an RDB-only
 * deployment, a replica that died after its full sync but before the AOF rewrite) is started with `appendonly no`
 * so that Redis loads the RDB, and the AOF is switched on once it runs ('rdb'; see redis/conf.ts and
 * commands/run-redis.ts). A Redis that merely started (an empty base and incr file) holds nothing ('none').
 */
export async function dataSource(dir: string): Promise<'aof' | 'rdb' | 'none'> {
  for (const f of await aofFiles(dir)) if (await holds(f)) return 'aof';
  return (await holds(join(dir, 'dump.rdb'))) ? 'rdb' : 'none';
}

/** Whether Redis will load a dataset from the data dir (dataSource). */
export async function dataDirHasData(dir: string): Promise<boolean> {
  return (await dataSource(dir)) !== 'none';
}

/** How many bytes of persistence files Redis will load from the data dir (dataSource): what a restart loads. */
export async function dataDirBytes(dir: string): Promise<number> {
  const size = async (p: string) => {
    try {
      return (await stat(p)).size;
    } catch {
      return 0;
    }
  };
  const source = await dataSource(dir);
  const files = source === 'aof' ? await aofFiles(dir) : source === 'rdb' ? [join(dir, 'dump.rdb')] : [];
  let total = 0;
  for (const f of files) total += await size(f);
  return total;
}
