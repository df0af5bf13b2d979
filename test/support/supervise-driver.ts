// Runs src/supervise.ts around a shell command, for PID 1 tests:
//   node supervise-driver.ts <stopTimeoutMs> <sh -c script>
import { supervise } from '../../src/supervise.ts';

const [stopMs, script] = process.argv.slice(2);
process.exitCode = await supervise('sh', ['-c', script], Number(stopMs)).done;
