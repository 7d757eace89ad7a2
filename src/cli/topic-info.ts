// Looks up a topic's partition count before producing or consuming, so an unknown topic is
// one clear error (UNKNOWN_TOPIC) before any data moves.

import { SpoolError, Errors, errorByCode } from '../util/errors.js';
import type { Connection } from './connect.js';

export async function describeTopicPartitions(connection: Connection, topic: string): Promise<number> {
  const described = await connection.request(() => connection.client.admin().describeTopics({ topics: [topic] }));
  const entry = described.find((item) => item.name === topic);
  // Some admin shapes report per-topic errors inline instead of rejecting.
  const errorCode = (entry as { errorCode?: number } | undefined)?.errorCode ?? 0;
  if (entry === undefined || errorCode === Errors.UNKNOWN_TOPIC.code) {
    throw new SpoolError(Errors.UNKNOWN_TOPIC, `unknown topic '${topic}'`);
  }
  if (errorCode !== 0) throw new SpoolError(errorByCode(errorCode), (entry as { errorMessage?: string }).errorMessage);
  return entry.partitions.length;
}
