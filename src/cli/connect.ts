// One place where CLI commands get a Client for the global --broker address, with short
// connect timeouts so an unreachable broker fails in a few seconds, and where network
// errors become one readable line that names the address.

import { cliClientLogger } from './client-log.js';
import type { Command } from 'commander';
import { Client, type SaslConfig } from '../client/index.js';
import { isSpoolError, SpoolError, Errors } from '../util/errors.js';
import { formatBroker, parseBroker, UsageError } from './args.js';
import { clientTlsOf } from './client-tls.js';

/** How long a CLI command waits for the broker to answer its first request. */
export const CONNECT_TIMEOUT_MS = 3000;
const FIRST_REQUEST_DEADLINE_MS = 6000;

export interface Connection {
  client: Client;
  /** "host:port" as given (normalized). */
  address: string;
  /** Runs a request; a network failure becomes "cannot reach broker at host:port". */
  request<T>(run: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function brokerOption(command: Command): string {
  const options = command.optsWithGlobals<{ broker?: string }>();
  return options.broker ?? process.env['SPOOL_BROKER'] ?? '127.0.0.1:9400';
}

/** The SDK's `sasl` option from --sasl-mechanism/--sasl-username/--sasl-password or SPOOL_SASL_*; none without a user name. */
export function saslOption(command: Command, env: NodeJS.ProcessEnv = process.env): { sasl?: SaslConfig } {
  const options = command.optsWithGlobals<{ saslMechanism?: string; saslUsername?: string; saslPassword?: string }>();
  const username = options.saslUsername ?? env['SPOOL_SASL_USERNAME'];
  const password = options.saslPassword ?? env['SPOOL_SASL_PASSWORD'];
  const mechanism = (options.saslMechanism ?? env['SPOOL_SASL_MECHANISM'] ?? 'SCRAM-SHA-256').toLowerCase();
  if (username === undefined || username === '') {
    if (options.saslPassword !== undefined || options.saslMechanism !== undefined) throw new UsageError('--sasl-mechanism and --sasl-password need --sasl-username (or env SPOOL_SASL_USERNAME)');
    return {};
  }
  if (password === undefined || password === '') throw new UsageError('--sasl-username needs a password: env SPOOL_SASL_PASSWORD or --sasl-password');
  if (mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512' && mechanism !== 'plain') {
    throw new UsageError(`--sasl-mechanism must be SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN, got '${mechanism}'`);
  }
  return { sasl: { mechanism, username, password } };
}

export function connect(command: Command, clientId = 'spool-cli'): Connection {
  const address = formatBroker(parseBroker(brokerOption(command)));
  const logger = cliClientLogger();
  const ssl = clientTlsOf(command);
  const client = new Client({
    ...saslOption(command),
    brokers: [address],
    clientId,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    requestTimeoutMs: 30_000,
    retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 },
    ...(logger ? { logger } : {}),
    ...(ssl ? { ssl } : {}),
  });
  let closed = false;
  return {
    client,
    address,
    request: (run) => withDeadline(address, run),
    async close() {
      if (closed) return;
      closed = true;
      await settleWithin(client.close(), 3000);
    },
  };
}

/** Connects for `body` and closes the connection afterwards, whether `body` succeeds or throws. */
export async function withConnection(command: Command, body: (connection: Connection) => Promise<void>): Promise<void> {
  const connection = connect(command);
  try {
    await body(connection);
  } finally {
    await connection.close();
  }
}

/** True for errors that mean "the broker could not be reached or the connection broke". */
export function isNetworkError(error: unknown): boolean {
  if (isSpoolError(error)) {
    return error.kind === Errors.NETWORK_ERROR || error.kind === Errors.BROKER_NOT_AVAILABLE || error.kind === Errors.REQUEST_TIMED_OUT;
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND';
}

export function unreachable(address: string, cause: unknown): SpoolError {
  const detail = cause instanceof Error ? rootMessage(cause) : String(cause);
  return new SpoolError(Errors.BROKER_NOT_AVAILABLE, `cannot reach broker at ${address}: ${detail}`, { cause });
}

function rootMessage(error: Error): string {
  let current: Error = error;
  // The innermost cause says what happened (connect ECONNREFUSED ...); stop at a few levels.
  for (let depth = 0; depth < 4 && current.cause instanceof Error; depth++) current = current.cause;
  return current.message;
}

/** Runs `run`; network errors and a silent broker become BROKER_NOT_AVAILABLE naming the address. */
async function withDeadline<T>(address: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unreachable(address, new Error(`no answer in ${FIRST_REQUEST_DEADLINE_MS / 1000} s`))),
      FIRST_REQUEST_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([run(), deadline]);
  } catch (error) {
    if (isNetworkError(error) && !(isSpoolError(error) && error.message.startsWith('cannot reach broker'))) {
      throw unreachable(address, error);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise` at most `ms`; errors are ignored (used on the way out). */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined, // closing after a failure may fail again; the first error is what the user sees
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

export { UsageError };

/** The topic of produce/consume: the argument or -t/--topic (one of them, not both). */
export function topicOf(argument: string | undefined, flag: string | undefined, command: Command): string {
  if (argument !== undefined && flag !== undefined && argument !== flag) command.error(`topic given twice: '${argument}' and -t '${flag}'`);
  const topic = argument ?? flag;
  if (topic === undefined) command.error('missing topic (give it as the argument or with -t)');
  return topic;
}
