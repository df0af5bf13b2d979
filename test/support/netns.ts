// Pods with their own network: each host a network namespace joined by a veth pair to a bridge of this test's
// own, with its own /etc/netns/<ns>/hosts (which `ip netns exec` mounts over /etc/hosts) so that pods reach each
// other by name. Partitions cut links, one way or both ways: packets are routed to a neighbour that does not
// exist (a permanent ARP entry with a MAC nobody has), so they vanish silently as in a real partition (no error,
// a connect or a request simply times out). A host can be cut off from everything (its link down), and slowness
// is a token-bucket rate on its link (this kernel has no netem).
// Everything is torn down after the test, also when it fails, and on exit or Ctrl-C; namespaces left by a test
// process that died are swept by the next one. Needs root and iproute2: `Network.unavailable()` says why not.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { canonicalHost } from '../../src/model.ts';
import { processOctet } from './redis.ts';

/**
 * One host: its namespace, the name it is known by, its address (the primary one, as status.podIP), every address
 * (status.podIPs: on a dual-stack network the other family's second), and the root side of its veth pair.
 */
export type Host = {
  name: string;
  ns: string;
  ip: string;
  ips: string[];
  veth: string;
  fqdn?: string;
  /** False until the host's names are in the hosts files (the cluster DNS lags behind a new pod). */
  published?: boolean;
};

const PREFIX = 'rhl';
const VOID_MAC = '02:00:00:00:de:ad';
let networks = 0;
const open = new Set<Network>();

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const quiet = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const gone = (pid: number) => pid !== process.pid && !alive(pid);

/** Namespaces (rhl<pid>n…) and bridges (rhl<pid in base 36>b…) of test processes that are gone. */
function sweep() {
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0];
    const pid = new RegExp(`^${PREFIX}(\\d+)n`).exec(ns)?.[1];
    if (pid && gone(Number(pid))) {
      quiet('ip', 'netns', 'del', ns);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  }
  for (const line of ip('-o', 'link', 'show', 'type', 'bridge').split('\n')) {
    const dev = /^\d+: ([^:@]+)/.exec(line)?.[1];
    const pid = dev && new RegExp(`^${PREFIX}([0-9a-z]+)b\\d+$`).exec(dev)?.[1];
    if (dev && pid && gone(parseInt(pid, 36))) quiet('ip', 'link', 'del', dev);
  }
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const n of open) n.closeSync();
  });
}

export class Network {
  readonly hosts = new Map<string, Host>();
  /** The bridge's address: how hosts reach this test process (the stand-in API, the test's own clients). */
  readonly gateway: string;
  private readonly id: string;
  private readonly k: number;
  private readonly subnet: string;
  private readonly bridge: string;
  /** An address on the subnet that nobody has: cut traffic is routed there and lost. */
  private readonly void: string;
  private next = 2;
  private closed = false;

  /** Why namespaces cannot be made here, or undefined when they can. */
  static unavailable(): string | undefined {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
    if (!quiet('ip', '-V')) return 'iproute2 (`ip`) is not installed';
    const probe = `${PREFIX}${process.pid}nprobe`;
    if (!quiet('ip', 'netns', 'add', probe)) return '`ip netns add` is not allowed on this machine';
    quiet('ip', 'netns', 'del', probe);
    return undefined;
  }

  /**
   * A new network for this test, torn down after it; `ipv6`: hosts have IPv6 (ULA) addresses; `dualStack`: each
   * host also has an address of the other family (cuts, partitions and routes are of the primary family only).
   */
  static create(t?: TestContext, opts: { ipv6?: boolean; dualStack?: boolean } = {}): Network {
    sweep();
    const n = new Network(networks++, opts.ipv6 ?? false, opts.dualStack ?? false);
    open.add(n);
    hookExit();
    t?.after(() => n.close());
    return n;
  }

  private constructor(k: number, ipv6: boolean, dualStack: boolean) {
    if (k > 254) throw new Error('too many networks in one test process');
    this.id = `${PREFIX}${process.pid}`;
    this.k = k;
    this.ipv6 = ipv6;
    this.families = dualStack ? [ipv6, !ipv6] : [ipv6];
    // IPv4 10.<octet>.<k>.0/24, or the ULA fd<octet>:<k>::/64 (octet: this test process's own, see redis.ts).
    this.subnet = ipv6
      ? `fd${processOctet().toString(16).padStart(2, '0')}:${k.toString(16)}::`
      : `10.${processOctet()}.${k}.`;
    this.gateway = this.address(1);
    this.void = this.address(254);
    this.bridge = `${PREFIX}${process.pid.toString(36)}b${k}`;
    ip('link', 'add', this.bridge, 'type', 'bridge');
    for (const v6 of this.families) ip(...this.addrAdd(this.address(1, v6), this.bridge, v6));
    ip('link', 'set', this.bridge, 'up');
  }

  private readonly ipv6: boolean;
  /** The address families of every host, the primary first (true: IPv6). */
  private readonly families: boolean[];
  private address(n: number, v6 = this.ipv6): string {
    const octet = processOctet();
    // IPv6 in its canonical form, as Kubernetes reports pod IPs (fd0a:0::2 is written fd0a::2).
    return v6
      ? canonicalHost(`fd${octet.toString(16).padStart(2, '0')}:${this.k.toString(16)}::${n.toString(16)}`)
      : `10.${octet}.${this.k}.${n}`;
  }
  /** `ip addr add` of an address on this subnet (IPv6 without duplicate address detection: usable at once). */
  private addrAdd(address: string, dev: string, v6 = this.ipv6): string[] {
    return v6
      ? ['-6', 'addr', 'add', `${address}/64`, 'dev', dev, 'nodad']
      : ['addr', 'add', `${address}/24`, 'dev', dev];
  }

  /** A new host (a namespace with a new address) known as `name`; the previous one of that name is removed. */
  add(name: string, fqdn?: string, opts: { dnsLagMs?: number } = {}): Host {
    const old = this.hosts.get(name);
    if (old) this.remove(old);
    const n = this.next++;
    if (n > 253) throw new Error(`network ${this.subnet} is full`);
    const ns = `${this.id}n${this.k}h${n}`;
    const veth = `v${process.pid.toString(36)}.${this.k}.${n}`;
    const ips = this.families.map((v6) => this.address(n, v6));
    const h: Host = { name, ns, ip: ips[0], ips, veth, fqdn, published: !opts.dnsLagMs };
    ip('netns', 'add', ns);
    ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', veth, 'master', this.bridge, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    this.families.forEach((v6, i) => ip('-n', ns, ...this.addrAdd(ips[i], 'eth0', v6)));
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    for (const v6 of this.families) ip('-n', ns, 'route', 'add', 'default', 'via', this.address(1, v6));
    ip('-n', ns, 'neigh', 'add', this.void, 'lladdr', VOID_MAC, 'dev', 'eth0', 'nud', 'permanent');
    this.hosts.set(name, h);
    this.writeHosts();
    if (opts.dnsLagMs) {
      // As the endpoints controller and the cluster DNS: the name resolves a moment after the pod got its IP.
      setTimeout(() => {
        if (this.hosts.get(name) !== h) return;
        h.published = true;
        this.writeHosts();
      }, opts.dnsLagMs).unref();
    }
    return h;
  }

  /** The host's namespace is deleted (stop its processes first: a namespace outlives nothing it runs). */
  remove(h: Host) {
    quiet('ip', 'netns', 'del', h.ns);
    quiet('ip', 'link', 'del', h.veth);
    rmSync(`/etc/netns/${h.ns}`, { recursive: true, force: true });
    if (this.hosts.get(h.name) === h) this.hosts.delete(h.name);
    this.writeHosts();
  }

  /** The command prefix that runs a program inside the host's namespace (exec: the same PID). */
  exec(h: Host): string[] {
    return ['ip', 'netns', 'exec', h.ns];
  }

  /** Every host's /etc/hosts: localhost, then every host by name (and fully qualified name). */
  private writeHosts() {
    const lines = ['127.0.0.1 localhost', '::1 localhost'];
    for (const h of this.hosts.values()) {
      if (h.published === false) continue;
      for (const a of h.ips) lines.push(`${a} ${h.fqdn ? `${h.fqdn} ` : ''}${h.name}`);
    }
    for (const h of this.hosts.values()) {
      mkdirSync(`/etc/netns/${h.ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${h.ns}/hosts`, `${lines.join('\n')}\n`);
      // A name not in the hosts file fails at once, as the cluster DNS answers NXDOMAIN for a pod it does not
      // know (yet); the machine's own resolver is out of reach from the namespace and would time out instead.
      writeFileSync(`/etc/netns/${h.ns}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    }
  }

  /**
   * Packets from `from` to `to` (a host, or an address such as the gateway) are lost without a trace. For TCP
   * that breaks both directions of a connection (the replies are lost); `bothWays` cuts `to`'s packets too.
   */
  cut(from: Host, to: Host | string, opts: { bothWays?: boolean } = {}) {
    const target = typeof to === 'string' ? to : to.ip;
    const len = target.includes(':') ? 128 : 32;
    quiet('ip', '-n', from.ns, 'route', 'replace', `${target}/${len}`, 'via', this.void, 'dev', 'eth0');
    if (opts.bothWays && typeof to !== 'string') this.cut(to, from);
  }

  /** Two groups of hosts can no longer reach each other (both ways); each side still reaches the gateway. */
  partition(a: Host[], b: Host[]) {
    for (const x of a) for (const y of b) this.cut(x, y, { bothWays: true });
  }

  /** The host's link is down: it reaches nothing and nothing reaches it, the test process included. */
  isolate(h: Host) {
    ip('link', 'set', h.veth, 'down');
  }

  /** Traffic to the host is limited to `kbit` kbit/s (a token bucket on its link; queued up to `latencyMs`). */
  slow(h: Host, kbit: number, latencyMs = 2000) {
    quiet('tc', 'qdisc', 'del', 'dev', h.veth, 'root');
    const burst = `${Math.max(2, Math.ceil(kbit / 8 / 10))}kb`;
    execFileSync('tc', [
      'qdisc',
      'add',
      'dev',
      h.veth,
      'root',
      'tbf',
      'rate',
      `${kbit}kbit`,
      'burst',
      burst,
      'latency',
      `${latencyMs}ms`,
    ]);
  }

  /** Every cut, isolation and rate limit is undone. */
  heal() {
    for (const h of this.hosts.values()) {
      quiet('ip', 'link', 'set', h.veth, 'up');
      quiet('tc', 'qdisc', 'del', 'dev', h.veth, 'root');
      for (const line of ip('-n', h.ns, this.ipv6 ? '-6' : '-4', 'route', 'show').split('\n')) {
        const dst = line.includes(`via ${this.void} `) ? line.split(' ')[0] : undefined;
        if (dst) quiet('ip', '-n', h.ns, 'route', 'del', dst);
      }
    }
  }

  closeSync() {
    if (this.closed) return;
    this.closed = true;
    for (const h of [...this.hosts.values()]) this.remove(h);
    quiet('ip', 'link', 'del', this.bridge);
    open.delete(this);
  }

  async close() {
    this.closeSync();
  }

  /** Every namespace of this network still exists (for the harness test). */
  namespaces(): string[] {
    return ip('netns', 'list')
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((ns) => ns.startsWith(`${this.id}n${this.k}h`));
  }
}
