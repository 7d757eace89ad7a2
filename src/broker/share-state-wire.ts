// Share-partition state on the wire between brokers (native 62-65, protocol/messages.ts):
// runs as [length, state, deliveryCount] triples from the start offset, and the group's
// config with unset fields left out. Both ends (the handlers in native/share-state.ts and
// the cluster persister in share-persister-cluster.ts) convert through here.

import type { ShareGroupConfig } from '../groups/share-coordinator-state.js';
import type { ShareRecordState, StateRun } from '../groups/share-partition.js';
import type { ShareGroupConfigFields, ShareStateRunTriple } from '../protocol/messages.js';

export function runsToWire(runs: readonly StateRun[]): ShareStateRunTriple[] {
  return runs.map((run) => [run.lastOffset - run.firstOffset + 1, run.state, run.deliveryCount]);
}

export function runsFromWire(startOffset: number, triples: readonly ShareStateRunTriple[]): StateRun[] {
  const runs: StateRun[] = [];
  let firstOffset = startOffset;
  for (const [length, state, deliveryCount] of triples) {
    runs.push({ firstOffset, lastOffset: firstOffset + length - 1, state: state as ShareRecordState, deliveryCount });
    firstOffset += length;
  }
  return runs;
}

export function configToWire(config: ShareGroupConfig): ShareGroupConfigFields {
  const fields: ShareGroupConfigFields = {};
  if (config.lockDurationMs !== undefined) fields.lockDurationMs = config.lockDurationMs;
  if (config.deliveryLimit !== undefined) fields.deliveryLimit = config.deliveryLimit;
  return fields;
}

export function configFromWire(fields: ShareGroupConfigFields | undefined): ShareGroupConfig {
  const config: ShareGroupConfig = {};
  if (typeof fields?.lockDurationMs === 'number') config.lockDurationMs = fields.lockDurationMs;
  if (typeof fields?.deliveryLimit === 'number') config.deliveryLimit = fields.deliveryLimit;
  return config;
}
