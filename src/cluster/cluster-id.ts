// The cluster's identity: `<root>/cluster-id` holds `{"v":1,"clusterId":"<22 chars>"}`, a
// random 128-bit id in base64url (Kafka's cluster.id shape), created once by the first broker
// that starts against an empty root (create-if-absent) and never changed or deleted. Every
// broker reads it before it registers and compares it with the one its data directory
// recorded (src/broker/cluster-replica-record.ts), so a data directory from another cluster,
// or from this root after etcd's data was lost, is recognised before anything is deleted.

import { randomBytes } from 'node:crypto';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import type { KeyLayout } from './layout.js';
import type { ClusterStore } from './store.js';
import { encodeValue, VALUE_FORMAT_VERSION } from './values.js';

/** base64url of 16 bytes, no padding. */
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** Wait between attempts while etcd is unreachable at start. */
const CLUSTER_ID_RETRY_MS = 250;

export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/** The id in a `<root>/cluster-id` value, or null when it does not decode. */
export function decodeClusterId(bytes: Buffer): string | null {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { v?: unknown; clusterId?: unknown };
    return value.v === VALUE_FORMAT_VERSION && typeof value.clusterId === 'string' && CLUSTER_ID_PATTERN.test(value.clusterId) ? value.clusterId : null;
  } catch {
    // Not JSON: unreadable, which null says.
    return null;
  }
}

/**
 * Reads the cluster id, creating it first when the root has none (one transaction:
 * absent -> put, so two brokers starting at once agree on the winner's id). Retries every
 * 250 ms while etcd is unreachable, until `stopped()`; a value that does not decode stops
 * the start (CLUSTER_UNAVAILABLE): without the id no data directory can be checked.
 */
export async function readOrCreateClusterId(store: ClusterStore, layout: KeyLayout, stopped: () => boolean): Promise<string> {
  const key = layout.clusterId;
  for (;;) {
    if (stopped()) throw new SpoolError(Errors.SHUTTING_DOWN, 'stopped before the cluster id was read');
    let read;
    try {
      await store.transaction([{ key, kind: 'absent' }], [{ kind: 'put', key, value: encodeValue({ clusterId: newClusterId() }) }]);
      read = await store.get(key);
    } catch (error) {
      if (stopped() || !isSpoolError(error, Errors.CLUSTER_UNAVAILABLE)) throw error;
      await new Promise((resolve) => setTimeout(resolve, CLUSTER_ID_RETRY_MS));
      continue;
    }
    // Nobody deletes the key: absent right after the create-if-absent means a hand edit; go round.
    if (read === null) continue;
    const clusterId = decodeClusterId(read.value);
    if (clusterId === null) throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, `${key} does not hold a cluster id of format ${VALUE_FORMAT_VERSION}; fix or delete it by hand`);
    return clusterId;
  }
}
