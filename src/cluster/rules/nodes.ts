// What a cluster node says of the cluster, as data: CLUSTER NODES parsed, slots counted and written out, and
// whether a node is in a cluster and that cluster has settled.
export const CLUSTER_SLOTS = 16384;

/** One line of CLUSTER NODES. */
export type ClusterNode = {
  id: string;
  host: string;
  port: number;
  flags: string[];
  /** The master's id for a replica, else undefined. */
  masterId?: string;
  linkState: string;
  /** Slot ranges served, inclusive (importing/migrating entries left out). */
  slots: [number, number][];
  /** Slots a move left open, as the node's own line shows them: migrating to, or importing from, node `peer`. */
  open?: OpenSlot[];
};

export type OpenSlot = { slot: number; state: 'migrating' | 'importing'; peer: string };

/** `[5461->-<id>]` (migrating to id) or `[5461-<-<id>]` (importing from id). */
function openSlot(entry: string): OpenSlot | undefined {
  const m = /^\[(\d+)-([<>])-(\w+)\]$/.exec(entry);
  return m ? { slot: Number(m[1]), state: m[2] === '>' ? 'migrating' : 'importing', peer: m[3] } : undefined;
}

/** CLUSTER NODES (Redis 7: `<id> <ip:port@bus[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slots>`). */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [id, address, flags, master, , , , linkState, ...slots] = l.split(' ');
      const hostPort = address.split('@')[0];
      const i = hostPort.lastIndexOf(':');
      const open = slots.map(openSlot).filter((o) => o !== undefined);
      return {
        id,
        host: hostPort.slice(0, i),
        port: Number(hostPort.slice(i + 1)),
        flags: flags.split(','),
        ...(master && master !== '-' ? { masterId: master } : {}),
        linkState,
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a, b ?? a] as [number, number];
          }),
        ...(open.length ? { open } : {}),
      };
    });
}

export const slotCount = (n: ClusterNode) => n.slots.reduce((sum, [a, b]) => sum + b - a + 1, 0);
export const slotText = (n: ClusterNode) => n.slots.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');

/** What one Redis says of the cluster: CLUSTER INFO's fields and CLUSTER NODES, and how many keys it holds. */
export type NodeState = { info: Record<string, string>; nodes: ClusterNode[]; keys: number };

/**
 * Part of a cluster: it knows other nodes, or it is a cluster of one serving every slot with a config epoch (the
 * bootstrap sets one, from 1; so does a failover). A node alone with slots and epoch 0 is not: Redis gives a fresh
 * node the slots of the keys it loads (a data dir from Sentinel mode: with enough keys, all 16384), and such a pod
 * holds data outside any cluster.
 */
export const inCluster = (s: NodeState) =>
  Number(s.info.cluster_known_nodes ?? 1) > 1 ||
  (Number(s.info.cluster_slots_assigned ?? 0) === CLUSTER_SLOTS && Number(s.info.cluster_my_epoch ?? 0) > 0);

const failing = (n: ClusterNode) => n.flags.includes('fail') || n.flags.includes('fail?');

/**
 * What a finished bootstrap looks like from one member: cluster_state ok, every slot served, and every node it
 * knows (failed ones aside) a master with slots or a replica: none met but not yet given a role.
 */
export const settled = (s: NodeState) =>
  inCluster(s) &&
  s.info.cluster_state === 'ok' &&
  Number(s.info.cluster_slots_assigned) === CLUSTER_SLOTS &&
  s.nodes.filter((n) => !failing(n)).every((n) => n.flags.includes('slave') || slotCount(n) > 0);

/**
 * The master a replica's nodes.conf names (its lines are CLUSTER NODES', and a `vars` line): whom Redis syncs from
 * when it starts, before the launcher can say anything. Undefined for a master, a fresh node, or no such line.
 */
export function nodesConfMaster(text: string): { host: string; port: number } | undefined {
  const nodes = parseClusterNodes(
    text
      .split('\n')
      .filter((l) => !l.startsWith('vars '))
      .join('\n'),
  );
  const me = nodes.find((n) => n.flags.includes('myself'));
  const m = me?.masterId ? nodes.find((n) => n.id === me.masterId) : undefined;
  return m && m.host ? { host: m.host, port: m.port } : undefined;
}
