// What `npm run sandbox` needs built before it starts: the entry, the bundle it imports, the Node promote hook and
// the executable Sentinel runs as its client-reconfig-script (image/build.ts writes it last).
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export const BUILT = ['launcher.mjs', 'launcher-bundle.mjs', 'launcher-promote.mjs', 'launcher-promote'];

const ready = (f: string) => {
  try {
    accessSync(f, f.endsWith('.mjs') ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The files of BUILT missing from `dist` (or, for the hook, not executable), as paths under it. */
export const missingBuild = (dist: string): string[] => BUILT.map((f) => join(dist, f)).filter((f) => !ready(f));
