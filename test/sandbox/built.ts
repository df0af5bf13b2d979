// What `npm run sandbox` needs built before it starts: the entry, the bundle it imports and the promote hook.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const BUILT = ['launcher.mjs', 'launcher-bundle.mjs', 'launcher-promote.mjs'];

/** The files of BUILT missing from `dist`, as paths under it. */
export const missingBuild = (dist: string): string[] => BUILT.map((f) => join(dist, f)).filter((f) => !existsSync(f));
