// Entry of `launcher-promote` (its own small bundle): see promote-hook.ts.
import { runHook } from './promote-hook.ts';

process.exit(await runHook());
