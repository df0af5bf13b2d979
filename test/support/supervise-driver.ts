// Runs src/runtime/child.ts around a shell command, for PID 1 tests:
//   node supervise-driver.ts <stopTimeoutMs> <sh -c script> [<shutdown budget ms, with a shutdown step that hangs>]
import { supervise } from '../../src/runtime/child.ts';

const [stopMs, script, budget] = process.argv.slice(2);
const hang = budget === undefined ? undefined : () => new Promise<void>(() => {});
process.exitCode = await supervise('sh', ['-c', script], Number(stopMs), hang, Number(budget)).done;
