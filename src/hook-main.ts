// Entry of `launcher-promote` (its own small bundle): see promote-hook.ts.
import { runHook } from './sentinel/promote/hook-client.ts';

process.exit(await runHook());
