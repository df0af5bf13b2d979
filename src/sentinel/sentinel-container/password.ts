// The Sentinel container's part in a password rotation (runtime/password-rotation.ts): when the Redis password file
// changes, this Sentinel accepts the new password too (when it is also Sentinel's own, no SENTINEL_PASSWORD_FILE);
// once every Redis pod of every watched set (and every Sentinel, for its own) accepts it, it is used for Redis
// (auth-pass, unless the sentinel ACL user is set) and for the other Sentinels (sentinel-pass); after the grace
// period the old one is dropped.
import type { Config } from '../../config/types.ts';
import type { Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { currentPods, sentinelTargets } from '../../kube/pods.ts';
import { isLive, type Address, type PodView } from '../../model.ts';
import { forSentinel, localSentinel, probeOptions, withRedis } from '../../redis/client.ts';
import { log } from '../../runtime/log.ts';
import { allAccept, PasswordRotator } from '../../runtime/password-rotation.ts';

export function sentinelPasswordRotator(
  c: Config,
  kube: Kube,
  sets: () => Config[],
  switched: () => void,
): PasswordRotator | undefined {
  const own = !c.sentinelOwnPassword; // Sentinel's password is the Redis one
  if (!c.passwordFile || (!own && c.acl.sentinel) || c.acl.launcher) return undefined;
  const local = localSentinel(c);
  const accepts = (a: Address, password: string) =>
    withRedis(a, { ...probeOptions(c), username: undefined, password }, (x) => x.ping()).then(
      (pong) => pong === 'PONG',
      () => false,
    );
  const call = (...args: string[]) =>
    withRedis(local, forSentinel(probeOptions(c)), (x) => x.call(args[0], ...args.slice(1)));
  return new PasswordRotator(
    c.passwordFile,
    c.passwordGraceMs,
    {
      server: 'Sentinel',
      current: () => c.password,
      everyoneAccepts: async (next) => {
        const each = await Promise.all(
          sets().map((sc) => currentPods(kube, sc.podSelector).catch((): PodView[] => [])),
        );
        const pods = each.flat().filter(isLive);
        const redis = await allAccept(
          pods.map((p) => ({ host: p.ip, port: c.redisPort })),
          (a) => accepts(a, next),
        );
        if (!redis || !own) return redis;
        const sentinels = (await sentinelTargets(c, kube).catch(() => ({ addresses: [] }))).addresses;
        return allAccept(sentinels, (a) => accepts(a, next));
      },
      accept: async (next) => {
        if (own) await call('ACL', 'SETUSER', 'default', 'on', `>${next}`);
      },
      switchTo: async (next) => {
        if (!c.acl.sentinel) {
          for (const sc of sets()) await call('SENTINEL', 'SET', sc.masterSet, 'auth-pass', next);
        }
        if (own) {
          await call('SENTINEL', 'CONFIG', 'SET', 'sentinel-pass', next);
          c.sentinelPassword = next;
        }
        c.password = next;
        switched();
      },
      dropOld: async (old) => {
        if (own) await call('ACL', 'SETUSER', 'default', `<${old}`);
      },
    },
    (reason) => {
      log.info(`password rotation (Sentinel): ${reason}`);
      void emitEvent(kube, { name: c.podName }, 'Normal', 'PasswordRotation', `Sentinel: ${reason}`);
    },
  );
}
