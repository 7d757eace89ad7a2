// Option objects as users pass them. People come from kafkajs and bring its names;
// an option spool did not know used to be ignored without a word (a topic meant to keep
// messages 1 s got the 7-day default because `configEntries` was not read). Each factory
// now checks its options against a list: a kafkajs name that means the same thing is
// taken under its spool name (`sessionTimeout` -> `sessionTimeoutMs`), and anything else
// is refused with one error naming every unknown option and what to use instead.

import { Errors, SpoolError } from '../util/errors.js';

export interface OptionsSpec {
  /** Where the options were given, for the message: "client.consumer()". */
  where: string;
  /** spool's option names. */
  known: readonly string[];
  /** kafkajs name -> spool name, for options whose meaning (and unit) is the same. */
  aliases?: Readonly<Record<string, string>>;
  /** Names spool does not take, with what to do instead. */
  hints?: Readonly<Record<string, string>>;
}

/**
 * Returns `given` with kafkajs aliases renamed to spool's names (a copy only when one was
 * used), or throws INVALID_REQUEST naming every unknown option. Options whose value is
 * undefined are ignored, as they are everywhere else.
 */
export function checkOptions<T extends object>(given: T | undefined, spec: OptionsSpec): T {
  if (given === undefined || given === null) return {} as T;
  if (typeof given !== 'object') throw new SpoolError(Errors.INVALID_REQUEST, `${spec.where} takes an options object, got ${typeof given}`);
  let renamed: Record<string, unknown> | null = null;
  const problems: string[] = [];
  // for...in rather than Object.keys: send() checks its record on every call, and this allocates nothing.
  for (const name in given) {
    const value = (given as Record<string, unknown>)[name];
    if (value === undefined || spec.known.includes(name)) continue;
    const alias = spec.aliases?.[name];
    if (alias !== undefined) {
      renamed ??= { ...(given as Record<string, unknown>) };
      const spoolValue = (given as Record<string, unknown>)[alias];
      if (spoolValue !== undefined && spoolValue !== value) {
        problems.push(`${name} and ${alias} are the same option with different values: give ${alias} only`);
      }
      delete renamed[name];
      renamed[alias] = spoolValue ?? value;
      continue;
    }
    const hint = spec.hints?.[name];
    problems.push(hint === undefined ? `${name} is not an option (options: ${spec.known.join(', ')})` : `${name}: ${hint}`);
  }
  if (problems.length > 0) {
    throw new SpoolError(Errors.INVALID_REQUEST, `${spec.where}: unknown option${problems.length > 1 ? 's' : ''}: ${problems.join('; ')}`);
  }
  return (renamed ?? given) as T;
}

/** kafkajs's retry option names (ms without the suffix) -> spool's. */
export const RETRY_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['retries', 'initialRetryTimeMs', 'maxRetryTimeMs', 'multiplier', 'factor'],
  aliases: { initialRetryTime: 'initialRetryTimeMs', maxRetryTime: 'maxRetryTimeMs' },
  hints: {
    restartOnFailure: 'give restartOnFailure on the consumer: client.consumer({ restartOnFailure })',
  },
};

/** A retry options object with kafkajs's names taken (initialRetryTime -> initialRetryTimeMs, ...). */
export function checkRetryOptions<T extends object>(retry: T | undefined, where: string): T {
  return checkOptions(retry, { where, ...RETRY_OPTIONS });
}

export const CLIENT_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['brokers', 'clientId', 'requestTimeoutMs', 'connectTimeoutMs', 'retry', 'logger', 'ssl', 'sasl'],
  aliases: { requestTimeout: 'requestTimeoutMs', connectionTimeout: 'connectTimeoutMs' },
  hints: {
    logLevel: "pass a logger instead (a pino-compatible object: { debug, info, warn, error }); the client is silent by default",
    logCreator: "pass a logger instead (a pino-compatible object: { debug, info, warn, error })",
    enforceRequestTimeout: 'spool always enforces requestTimeoutMs',
    authenticationTimeout: 'authentication runs within connectTimeoutMs',
    reauthenticationThreshold: 'not supported: a connection authenticates once, when it opens',
    socketFactory: 'not supported; spool connects with node:net',
  },
};

export const PRODUCER_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['lingerMs', 'adaptiveLinger', 'batchBytes', 'acks', 'compression', 'retries', 'maxInFlight', 'maxRequestBytes', 'maxBufferedBytes', 'timeoutMs', 'idempotent'],
  aliases: { maxInFlightRequests: 'maxInFlight', linger: 'lingerMs', batchSize: 'batchBytes' },
  hints: {
    retry: 'set retries on the producer (retries) and the backoff on the Client (retry: { initialRetryTimeMs, maxRetryTimeMs, ... })',
    transactionalId: 'transactions are not supported',
    transactionTimeout: 'transactions are not supported',
    createPartitioner: "spool's partitioner is Kafka's murmur2 (keys) and sticky (no key); set message.partition to choose",
    allowAutoTopicCreation: 'spool never creates topics on produce; use admin.createTopics()',
    metadataMaxAge: 'not supported; metadata is refreshed on UNKNOWN_TOPIC / UNKNOWN_PARTITION',
    timeout: 'use timeoutMs',
  },
};

export const CONSUMER_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: [
    'groupId', 'sessionTimeoutMs', 'autoCommit', 'autoCommitIntervalMs', 'assignor', 'maxWaitMs', 'minBytes', 'maxBytes',
    'maxBytesPerPartition', 'maxBufferedBytes', 'autoOffsetReset', 'retry', 'restartOnFailure', 'maxPollIntervalMs',
  ],
  aliases: { sessionTimeout: 'sessionTimeoutMs', maxWaitTimeInMs: 'maxWaitMs', autoCommitInterval: 'autoCommitIntervalMs' },
  hints: {
    heartbeatInterval: 'the group coordinator sets the heartbeat interval (a third of sessionTimeoutMs, at most 3 s)',
    rebalanceTimeout: 'not needed: partitions move one by one (KIP-848), each as soon as its owner releases it',
    partitionAssigners: "use assignor: 'uniform' | 'range'",
    readUncommitted: 'spool has no transactions: every acknowledged message is read',
    allowAutoTopicCreation: 'spool never creates topics on subscribe; use admin.createTopics()',
    metadataMaxAge: 'not supported; metadata is refreshed on UNKNOWN_TOPIC / UNKNOWN_PARTITION',
    maxInFlightRequests: 'a consumer keeps one fetch in flight ahead of the reader',
    rackId: 'not supported (one broker)',
    maxPollInterval: 'use maxPollIntervalMs',
    fromBeginning: "fromBeginning is a subscribe() option; on the consumer use autoOffsetReset: 'earliest'",
  },
};

export const RUN_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['eachMessage', 'eachBatch'],
  hints: {
    autoCommit: 'set autoCommit on client.consumer({ autoCommit })',
    autoCommitInterval: 'set autoCommitIntervalMs on client.consumer({ autoCommitIntervalMs })',
    autoCommitThreshold: 'not supported; commit() yourself every N messages',
    eachBatchAutoResolve: 'eachBatch resolves the whole batch unless resolveOffset() was called',
    partitionsConsumedConcurrently: 'not supported: one handler runs at a time; use several consumers in the group',
  },
};

export const SUBSCRIBE_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['topics', 'fromBeginning', 'onAssigned', 'onRevoked'],
  hints: { topic: 'use topics: [name] (a topic per entry; a RegExp is not supported)' },
};

export const SEND_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['topic', 'messages', 'acks'],
  hints: {
    compression: 'set compression on client.producer({ compression })',
    timeout: 'set timeoutMs on client.producer({ timeoutMs })',
  },
};

export const CREATE_TOPICS_OPTIONS: Omit<OptionsSpec, 'where'> = {
  known: ['topics'],
  hints: {
    validateOnly: 'not supported',
    timeout: 'use the Client requestTimeoutMs',
    waitForLeaders: 'not needed: one broker leads every partition once createTopics() resolves',
  },
};

export const CREATE_TOPIC_SPEC: Omit<OptionsSpec, 'where'> = {
  known: ['topic', 'numPartitions', 'config', 'configEntries', 'replicationFactor'],
  hints: {
    replicaAssignment: 'not supported (one broker)',
  },
};
