// What the controller writes for one partition given who is alive: the pure rule, so it can be
// tested without etcd. Kafka's rules, with unclean election off:
// - the leader is alive: keep it; drop dead brokers from the ISR (leader epoch unchanged);
// - the leader is dead: the first live ISR member in assignment order leads, the ISR becomes
//   its live members, the leader epoch goes up by one;
// - no ISR member is alive: the partition goes offline (leader -1, epoch + 1) and keeps its
//   last ISR, so whichever of those brokers returns first is elected (each of them held
//   every acknowledged record when the ISR was last written);
// - offline and an ISR member is back: it leads, epoch + 1.
// `live` is the set of brokers the controller trusts this pass (a broker that re-registered
// since the controller last looked is left out once, as in Kafka: its restart was a failure).

import { NO_LEADER, type PartitionState } from './values.js';

export function nextPartitionState(state: PartitionState, replicas: readonly number[], live: ReadonlySet<number>, controllerEpoch: number): PartitionState | null {
  const liveIsr = state.isr.filter((id) => live.has(id));
  if (state.leader !== NO_LEADER && live.has(state.leader)) {
    if (liveIsr.length === state.isr.length) return null;
    return { ...state, isr: liveIsr, controllerEpoch };
  }
  if (liveIsr.length === 0) {
    if (state.leader === NO_LEADER) return null;
    return { leader: NO_LEADER, leaderEpoch: state.leaderEpoch + 1, isr: state.isr, controllerEpoch };
  }
  const leader = replicas.find((id) => liveIsr.includes(id)) ?? liveIsr[0]!;
  return { leader, leaderEpoch: state.leaderEpoch + 1, isr: liveIsr, controllerEpoch };
}
