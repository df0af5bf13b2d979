// What a data dir holds, judged by content: whether Redis has a dataset to load, and how many bytes a restart
// loads. Read-only.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** How many bytes of persistence files (RDB, AOF) the data dir holds: what a restart has to load. */
export async function dataDirBytes(dir: string): Promise<number> {
  const size = async (p: string) => {
    try {
      return (await stat(p)).size;
    } catch {
      return 0;
    }
  };
  let total = (await size(join(dir, 'dump.rdb'))) + (await size(join(dir, 'appendonly.aof')));
  try {
    for (const f of await readdir(join(dir, 'appendonlydir'))) total += await size(join(dir, 'appendonlydir', f));
  } catch {
    /* no AOF directory */
  }
  return total;
}

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

/**
 * Whether the data dir holds a dataset, judged by content: an RDB with a key, an AOF with a command, or an AOF
 * directory whose base holds data or whose incr file has a command. A Redis that merely started (it creates an
 * empty base and incr file at once with appendonly yes) has no data: that is what "has data" means.
 */
export async function dataDirHasData(dir: string): Promise<boolean> {
  const head = async (p: string) => {
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
  };
  const holds = async (p: string) => {
    const buf = await head(p);
    if (!buf?.length) return false;
    return buf.toString('latin1', 0, 5) === 'REDIS' ? rdbHasData(buf) : true; // an AOF of commands
  };
  if ((await holds(join(dir, 'dump.rdb'))) || (await holds(join(dir, 'appendonly.aof')))) return true;
  let files: string[];
  try {
    files = await readdir(join(dir, 'appendonlydir'));
  } catch {
    return false;
  }
  for (const f of files) {
    if (/\.(base\.(rdb|aof)|incr\.aof)$/.test(f) && (await holds(join(dir, 'appendonlydir', f)))) return true;
  }
  return false;
}
