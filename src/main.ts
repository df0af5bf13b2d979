// Entry point. Invoked as `launcher-promote` (what Sentinel execs, with no way to add arguments) it runs `promote`.
import { basename } from 'node:path';
import { main } from './cli.ts';

const args = process.argv.slice(2);
const asPromote = basename(process.argv[1] ?? '').startsWith('launcher-promote');
process.exitCode = await main(asPromote ? ['promote', ...args] : args);
