// The Sentinel hygiene's reset Lease (one Sentinel resets a set at a time): when its holder cannot be resetting any
// more, whatever the Lease's time left says.
import type { PodView } from '../../model.ts';

/**
 * A reset Lease's holder (`<pod>_<uid>`, or a pod name alone) that cannot be resetting any more: no such pod, a pod of
 * that name with another uid (recreated), or one that has stopped (Succeeded, Failed).
 */
export function holderGone(holder: string, pods: PodView[]): boolean {
  const cut = holder.lastIndexOf('_');
  const [name, uid] = cut > 0 ? [holder.slice(0, cut), holder.slice(cut + 1)] : [holder, undefined];
  const p = pods.find((x) => x.name === name);
  return !p || (uid !== undefined && p.uid !== undefined && p.uid !== uid) || ['Succeeded', 'Failed'].includes(p.phase);
}
