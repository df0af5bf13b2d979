// Entry point. Invoked as `launcher-promote` (what Sentinel execs, with no way to add arguments) it runs `promote`.
import { basename } from 'node:path';
import { main } from './cli.ts';

const args = process.argv.slice(2);
const asPromote = basename(process.argv[1] ?? '').startsWith('launcher-promote');
// Sentinel's arguments are positional whatever they look like (a master-set name may start with '-').
// Exit as soon as the command is done (Redis exited, say), whatever API call or timer is still in flight.
process.exit(await main(asPromote ? ['promote', '--', ...args] : args));
