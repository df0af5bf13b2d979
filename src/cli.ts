// The command line: `launcher run [--sentinel]`, `launcher role [--json]`, `launcher promote <7 args>`.
// Every setting is a flag and an env var (config.ts). Bad input: one line on stderr, exit 2.
import { Command, CommanderError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { ConfigError, type Config } from './config/types.ts';
import { parseConfig, rawFromEnv } from './config/parse.ts';
import { settingsFor, SETTINGS, type CommandName } from './config/settings.ts';
import { parsePromoteArgs, PromoteError, EXIT_GIVE_UP, EXIT_RETRY } from './sentinel/promote/args.ts';
import { log } from './runtime/log.ts';
import { TESTED_ENGINES } from './engines.ts';

// Each command loads what it needs when it runs (the Kubernetes client alone is most of the start-up time):
// --help, --version and bad input answer without it.
const kubeFor = async (c: Config) => (await import('./kube/api.ts')).connectKube(c.namespace, c.hostnames?.domain);

/** `launcher run` in a StatefulSet it would deadlock: one line (exit 2) and a Warning Event, before anything else. */
async function refuseOrderedReady(c: Config, kube: import('./kube/api.ts').Kube): Promise<void> {
  const problem = await (await import('./kube/statefulsets.ts')).podManagementProblem(kube, c.podName);
  if (!problem) return;
  const { emitEvent } = await import('./kube/events.ts');
  await emitEvent(kube, { name: c.podName }, 'Warning', 'PodManagementPolicy', problem).catch(() => {});
  throw new ConfigError(problem);
}

/** The one place the version comes from: package.json (--version, the image tag, the README). */
export const VERSION: string = pkg.version;

function withSettings(cmd: Command): Command {
  for (const s of settingsFor(cmd.name() as CommandName)) {
    if (s.env === 'SENTINEL' || s.env === 'CLUSTER_MODE') continue;
    const def = 'default' in s ? ` (default: ${s.default})` : '';
    cmd.addOption(new Option(`--${s.flag} <value>`, `${s.help}${def} [env ${s.env}]`));
  }
  return cmd;
}

/** Env first, then flags given on the command line. */
function configFrom(cmd: Command, sentinelFlag = false, anywhere = false, clusterFlag = false): Config {
  const raw: Record<string, string | undefined> = rawFromEnv();
  const opts = cmd.opts() as Record<string, string | undefined>;
  for (const s of SETTINGS) {
    if (s.env === 'SENTINEL' || s.env === 'CLUSTER_MODE') continue; // boolean flags, passed on their own
    const key = s.flag.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
    if (opts[key] !== undefined) raw[s.env] = opts[key];
  }
  return parseConfig(raw, { sentinelFlag, clusterFlag, hostname: process.env.HOSTNAME, anywhere });
}

export type Io = { out: (s: string) => void; err: (s: string) => void };

export async function main(
  argv: string[],
  io: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') },
): Promise<number> {
  let code = 0;
  const program = new Command('launcher')
    .description('Redis high availability on Kubernetes without an operator')
    .addHelpText('after', `\nEngines: ${TESTED_ENGINES}.`)
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // commander's own errors (unknown option, missing argument) in the house style, with the hint.
      outputError: (s, write) => write(failure(s.trim().replace(/^error: /, ''))),
    });
  const known = ['run', 'role', 'status', 'switchover', 'pause', 'resume', 'probe', 'promote', 'cluster'];
  /** One line: what is wrong, then where to look. */
  const failure = (msg: string) =>
    `launcher: ${msg.split('\n')[0]}; see 'launcher${known.includes(argv[0] ?? '') ? ` ${argv[0]}` : ''} --help'`;

  withSettings(
    program
      .command('run')
      .description(
        "decide this pod's role, write the config, run and supervise the server or Sentinel (Redis, Valkey)",
      ),
  )
    .option('--sentinel', 'run Sentinel instead of Redis [env SENTINEL=true]')
    .option('--cluster', 'run Redis Cluster (sharded, no Sentinel) [env CLUSTER_MODE=true]')
    .action(async (opts: { sentinel?: boolean; cluster?: boolean }, cmd: Command) => {
      const c = configFrom(cmd, opts.sentinel, false, opts.cluster);
      log.setTag(`launcher[${c.podName}${c.sentinelMode ? '/sentinel' : ''}]`);
      const kube = await kubeFor(c);
      await refuseOrderedReady(c, kube);
      code = c.sentinelMode
        ? await (await import('./commands/run-sentinel.ts')).runSentinel(c, kube)
        : c.cluster
          ? await (await import('./commands/run-cluster.ts')).runCluster(c, c.cluster, kube)
          : await (await import('./commands/run-redis.ts')).runRedis(c, kube);
    });

  withSettings(program.command('role').description('print what this pod would become and why; changes nothing'))
    .option('--json', 'machine-readable output')
    .option('--sentinel', 'in a Sentinel container: every set it watches, what it would monitor and why')
    .action(async (opts: { json?: boolean; sentinel?: boolean }, cmd: Command) => {
      const c = configFrom(cmd, opts.sentinel);
      const { role } = await import('./commands/role.ts');
      code = await role(c, await kubeFor(c), Boolean(opts.json), io.out);
    });

  withSettings(
    program
      .command('status')
      .description('the whole set at a glance and the verdict: healthy, or what is wrong; changes nothing'),
  )
    .option('-o, --output <format>', 'json for scripts')
    .addHelpText(
      'after',
      '\nRun it in any pod of the set, or wherever the pod IPs are reachable with a kubeconfig and --pod-selector.\n' +
        'Exit codes: 0 healthy, 1 degraded, 2 cannot tell (the API or every Redis unreachable).',
    )
    .action(async (opts: { output?: string }, cmd: Command) => {
      if (opts.output !== undefined && opts.output !== 'json') {
        throw new ConfigError(`output format ${JSON.stringify(opts.output)} is invalid: expected json`);
      }
      const c = configFrom(cmd, false, true);
      const { status } = await import('./commands/status.ts');
      code = await status(c, await kubeFor(c), opts.output === 'json', io.out);
    });

  withSettings(
    program
      .command('switchover')
      .description('a planned, checked handover to an in-sync replica (the best one, or --to); writes pause briefly'),
  )
    .option('--to <pod>', 'the replica to hand over to (default: the most caught-up one)')
    .option('--wait', 'also wait until the labels follow')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed (everything restored), 2 refused (nothing done).')
    .action(async (opts: { to?: string; wait?: boolean }, cmd: Command) => {
      const c = configFrom(cmd, false, true);
      const { switchover } = await import('./commands/switchover.ts');
      code = await switchover(c, await kubeFor(c), { to: opts.to, wait: Boolean(opts.wait) }, io.out);
    });

  withSettings(
    program
      .command('cluster')
      .description(
        'Redis Cluster: add-shard <pod> [<replica-pod>...], add-replica <pod>..., rebalance, remove-shard <pod>; ' +
          'every key kept',
      ),
  )
    .argument('<what>', 'add-shard, add-replica, rebalance or remove-shard')
    .argument('[pods...]', 'the pods it concerns')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 refused (bad input; nothing done).')
    .action(async (what: string, pods: string[], _opts: unknown, cmd: Command) => {
      const c = configFrom(cmd, false, true, true);
      const { clusterCommand } = await import('./commands/cluster.ts');
      code = await clusterCommand(c, await kubeFor(c), what, pods, io.out);
    });

  for (const [name, on] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    withSettings(
      program
        .command(name)
        .description(
          on
            ? 'maintenance mode: the supervisors observe and report but take no action (no relabel, no heal, ' +
                'no handover on SIGTERM, no Sentinel reset) until resume'
            : 'end maintenance mode: the supervisors act again',
        ),
    ).action(async (_opts: unknown, cmd: Command) => {
      const c = configFrom(cmd, false, true);
      if (c.cluster) {
        throw new ConfigError(
          `${name} is for Sentinel mode: in cluster mode Redis fails masters over itself (a replica's ` +
            'cluster-replica-no-failover stops that one), and a planned handover is launcher switchover --to <replica>',
        );
      }
      const { setPaused } = await import('./kube/record.ts');
      const r = await setPaused(await kubeFor(c), c.masterRecord, on);
      io.out(r.paused ? `paused since ${r.paused}; 'launcher resume' ends it` : 'resumed: the supervisors act again');
    });
  }

  withSettings(
    program
      .command('probe')
      .description("exec probe: readiness or liveness of this pod's Redis (or Sentinel with --sentinel)"),
  )
    .argument('<kind>', 'readiness or liveness')
    .option('--sentinel', 'probe the Sentinel container')
    .action(async (kind: string, opts: { sentinel?: boolean }, cmd: Command) => {
      if (kind !== 'readiness' && kind !== 'liveness') {
        throw new ConfigError(`probe kind ${JSON.stringify(kind)} is invalid: expected readiness or liveness`);
      }
      const c = configFrom(cmd, opts.sentinel);
      const { probe } = await import('./commands/probe.ts');
      code = await probe(c, await kubeFor(c), kind, io.out);
    });

  withSettings(program.command('promote').description('Sentinel client-reconfig-script: relabel pods after a failover'))
    .argument('[args...]', '<master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>')
    .addHelpText(
      'after',
      '\nExit codes (Sentinel retries 1, not 2):\n' +
        '  0  done, or nothing to do (a newer master already has a majority)\n' +
        '  1  transient: the API or the Sentinels unreachable, or the new master not confirmed yet\n' +
        '  2  permanent: bad arguments, unknown master set, no pod with that address, the API refused (403)',
    )
    .action(async (args: string[], _opts: unknown, cmd: Command) => {
      const parsed = parsePromoteArgs(args);
      const c = configFrom(cmd);
      log.setTag(`promote[${c.podName}]`);
      const { promote } = await import('./commands/promote.ts');
      code = await promote(c, await kubeFor(c), parsed);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    const isPromote = argv[0] === 'promote';
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return e.code === 'commander.help' ? 2 : 0;
      }
      return isPromote ? EXIT_GIVE_UP : 2;
    }
    if (e instanceof ConfigError) {
      io.err(failure(e.message));
      return 2;
    }
    if (e instanceof PromoteError) {
      io.err(failure(e.message));
      return e.exitCode;
    }
    io.err(failure((e as Error).message ?? String(e)));
    return isPromote ? EXIT_RETRY : 1;
  }
}
