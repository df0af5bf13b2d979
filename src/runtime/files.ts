// Nothing half-written: config files are written to a temp file in the same directory, then renamed.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/** writeFileAtomic for the shutdown path, where nothing may be left pending when the process exits. */
export function writeFileAtomicSync(path: string, content: string, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** writeFileAtomic for a generated config file: a failure names the file and the setting that placed it. */
export async function writeConfigFile(path: string, content: string): Promise<void> {
  await writeFileAtomic(path, content).catch((e: unknown) => {
    throw new Error(`cannot write ${path} (REDIS_CONF_DIR): ${(e as Error).message}`, { cause: e });
  });
}
