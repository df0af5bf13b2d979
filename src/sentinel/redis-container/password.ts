// The Redis container's part in a password rotation (runtime/password-rotation.ts): its Redis accepts the new
// password as well (ACL SETUSER default >new), the launcher's connections and masterauth switch once every live pod
// of the set accepts it, and the old one is dropped after the grace period. Not with the launcher's own ACL user: it
// may not run ACL SETUSER (a restart of each pod takes the new password then).
import type { Config } from '../../config/types.ts';
import type { Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { currentPods } from '../../kube/pods.ts';
import { isLive, type PodView } from '../../model.ts';
import { localRedis, probeOptions, withRedis } from '../../redis/client.ts';
import { log } from '../../runtime/log.ts';
import { allAccept, PasswordRotator } from '../../runtime/password-rotation.ts';

export function redisPasswordRotator(c: Config, kube: Kube): PasswordRotator | undefined {
  if (!c.passwordFile || c.acl.launcher) return undefined;
  const local = localRedis(c);
  const call = (...args: string[]) => withRedis(local, probeOptions(c), (x) => x.call(args[0], ...args.slice(1)));
  return new PasswordRotator(
    c.passwordFile,
    c.passwordGraceMs,
    {
      server: 'Redis',
      current: () => c.password,
      everyoneAccepts: async (next) => {
        const pods = (await currentPods(kube, c.podSelector).catch((): PodView[] => [])).filter(isLive);
        const o = { ...probeOptions(c), username: undefined, password: next };
        return allAccept(
          pods.map((p) => ({ host: p.ip, port: c.redisPort })),
          (a) =>
            withRedis(a, o, (x) => x.ping()).then(
              (pong) => pong === 'PONG',
              () => false,
            ),
        );
      },
      accept: async (next) => {
        await call('ACL', 'SETUSER', 'default', 'on', `>${next}`);
      },
      switchTo: async (next) => {
        c.password = next;
        if (!c.acl.replication) await call('CONFIG', 'SET', 'masterauth', next);
      },
      dropOld: async (old) => {
        await call('ACL', 'SETUSER', 'default', `<${old}`);
      },
    },
    (reason) => {
      log.info(`password rotation: ${reason}`);
      void emitEvent(kube, { name: c.podName }, 'Normal', 'PasswordRotation', reason);
    },
  );
}
