// Least-privilege Redis users (REDIS_ACL_*_PASSWORD_FILE): replicas replicate as `replication`, Sentinel talks to
// Redis as `sentinel`, the launcher as `launcher`; the default user keeps the application's password. Through a
// boot, a handover on SIGTERM (CLIENT PAUSE, SENTINEL FAILOVER), the old master's return and a split-brain-free
// relabel, no Redis logs a single denied command (ACL LOG empty: each user can do what it must), and each user
// gets NOPERM for what it must not (keys, FLUSHALL, SHUTDOWN, ACL). The launcher's password is in no config file.
import { test } from 'node:test';
import { aclScenario } from '../support/acl-scenario.ts';
import { REDIS_70 } from '../support/engines.ts';

test('ACL users: each does what it must through boot, handover and return, and nothing more', async (t) => {
  await aclScenario(t, REDIS_70);
});
