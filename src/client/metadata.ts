// Partition counts per topic, fetched with Metadata and cached. Concurrent look-ups of
// one topic share one request; an unknown topic is not cached (it may be created
// later) and surfaces as SpoolError UNKNOWN_TOPIC. invalidate() drops an entry after
// the broker says a topic or partition is unknown.

import { ApiKey, type MetadataResponse } from '../protocol/index.js';
import { errorFromCode } from './errors.js';
import type { Client } from './client.js';
import { Errors, SpoolError } from '../util/errors.js';

export class MetadataCache {
  private readonly partitions = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(private readonly client: Client) {}

  /** The cached partition count, or undefined (synchronous: the producer's fast path). */
  cachedPartitions(topic: string): number | undefined {
    return this.partitions.get(topic);
  }

  async partitionCount(topic: string): Promise<number> {
    const known = this.partitions.get(topic);
    if (known !== undefined) return known;
    let lookup = this.inFlight.get(topic);
    if (!lookup) {
      lookup = this.fetch([topic])
        .then((topics) => {
          const entry = topics.get(topic);
          if (entry === undefined) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${topic} does not exist`);
          return entry;
        })
        .finally(() => this.inFlight.delete(topic));
      this.inFlight.set(topic, lookup);
    }
    return lookup;
  }

  /** Fetches metadata for `topics` and caches the partition counts. Throws the error of a failed topic. */
  async fetch(topics: string[]): Promise<Map<string, number>> {
    const response = await this.client.request(ApiKey.Metadata, { topics });
    const header = response.header as unknown as MetadataResponse;
    const result = new Map<string, number>();
    for (const topic of header.topics ?? []) {
      const failure = errorFromCode(topic.errorCode, topic.errorMessage);
      if (failure) {
        if (failure.kind === Errors.UNKNOWN_TOPIC) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${topic.name} does not exist`);
        throw failure;
      }
      this.partitions.set(topic.name, topic.partitions);
      result.set(topic.name, topic.partitions);
    }
    return result;
  }

  invalidate(topic: string): void {
    this.partitions.delete(topic);
  }

  clear(): void {
    this.partitions.clear();
  }
}
