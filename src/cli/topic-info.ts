// Looks up a topic's partition count before producing or consuming, so an unknown topic is
// one clear error (UNKNOWN_TOPIC) before any data moves.

import { SpoolError, Errors, errorByCode, isSpoolError } from '../util/errors.js';
import type { Connection } from './connect.js';

export async function describeTopicPartitions(connection: Connection, topic: string): Promise<number> {
  let described;
  try {
    described = await connection.request(() => connection.client.admin().describeTopics({ topics: [topic] }));
  } catch (error) {
    // The admin call names its own step ("describe topic x: ..."); the user only asked to produce or consume.
    if (isSpoolError(error) && error.kind === Errors.UNKNOWN_TOPIC) throw unknownTopic(topic);
    throw error;
  }
  const entry = described.find((item) => item.name === topic);
  // Some admin shapes report per-topic errors inline instead of rejecting.
  const errorCode = (entry as { errorCode?: number } | undefined)?.errorCode ?? 0;
  if (entry === undefined || errorCode === Errors.UNKNOWN_TOPIC.code) {
    throw unknownTopic(topic);
  }
  if (errorCode !== 0) throw new SpoolError(errorByCode(errorCode), (entry as { errorMessage?: string }).errorMessage);
  return entry.partitions.length;
}

function unknownTopic(topic: string): SpoolError {
  return new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${topic}' does not exist (create it with: spool topic create ${topic})`);
}
