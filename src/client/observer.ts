// What the client tells its user about itself: a `logger` (pino's interface: debug, info,
// warn, error, each taking (obj, msg) or (msg); silent by default) and events on the Client
// (a Node EventEmitter) for connect, disconnect, connect failures, request timeouts and the
// group member's life (join, rebalance, leave, crash). Before, a consumer was silent while
// the broker was down. Every event is also logged at its level, so one logger shows an
// outage from the first failed request to the reconnect.

import type { TopicPartition } from './assignment.js';

/** A pino-compatible logger (console works too: it takes the same arguments). */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export const SILENT_LOGGER: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

/** The payload of each client event (client.on(name, (payload) => ...)). */
export interface ClientEvents {
  /** A connection is up (TCP connected and handshake done); also after a reconnect. */
  connect: [{ broker: string }];
  /** An established connection broke (`error`) or was closed by the client (no error). */
  disconnect: [{ broker: string; error?: Error }];
  /** A connection attempt failed (the broker is down or not reachable). */
  'connect.error': [{ broker: string; error: Error }];
  /** A request got no answer in time (the connection stays open). */
  'request.timeout': [{ broker: string; apiKey: number; timeoutMs: number }];
  /** The group member joined (or rejoined) its group. */
  'group.join': [{ groupId: string; memberId: string; memberEpoch: number }];
  /** The member's partitions changed: assigned ones started, revoked ones released, or all lost (fenced). */
  'group.rebalance': [{ groupId: string; memberId: string; assigned: TopicPartition[]; revoked: TopicPartition[]; lost: boolean }];
  /** The member left its group (close, restart after a handler failure, maxPollIntervalMs). */
  'group.leave': [{ groupId: string; memberId: string; reason: string }];
  /** The group's coordinator was found at another broker (a cluster: the leader of its offsets partition moved). */
  'group.coordinator': [{ groupId: string; broker: string; nodeId: number }];
  /** The consumer stopped with an error (a handler that failed for good, a fatal group error). */
  'group.crash': [{ groupId: string | undefined; error: Error; restart: boolean }];
}

export type ClientEventName = keyof ClientEvents;

type Level = keyof Logger;

const LEVELS: Record<ClientEventName, Level> = {
  connect: 'info',
  disconnect: 'warn',
  'connect.error': 'warn',
  'request.timeout': 'warn',
  'group.join': 'info',
  'group.rebalance': 'info',
  'group.leave': 'info',
  'group.coordinator': 'info',
  'group.crash': 'error',
};

function list(partitions: TopicPartition[]): string {
  return partitions.map(({ topic, partition }) => `${topic}/${partition}`).join(', ') || 'none';
}

/** The one-line message logged with each event. */
export function eventMessage<E extends ClientEventName>(event: E, payload: ClientEvents[E][0]): string {
  const p = payload as Record<string, unknown> & { error?: Error };
  switch (event) {
    case 'connect':
      return `connected to ${String(p['broker'])}`;
    case 'disconnect':
      return p.error === undefined ? `disconnected from ${String(p['broker'])}` : `connection to ${String(p['broker'])} lost: ${p.error.message}`;
    case 'connect.error':
      return `cannot connect to ${String(p['broker'])}: ${p.error!.message}`;
    case 'request.timeout':
      return `request (api ${String(p['apiKey'])}) to ${String(p['broker'])} got no answer in ${String(p['timeoutMs'])} ms`;
    case 'group.join':
      return `joined group ${String(p['groupId'])} as ${String(p['memberId'])} (epoch ${String(p['memberEpoch'])})`;
    case 'group.rebalance':
      return `group ${String(p['groupId'])}: assigned ${list(p['assigned'] as TopicPartition[])}; ${p['lost'] === true ? 'lost' : 'revoked'} ${list(p['revoked'] as TopicPartition[])}`;
    case 'group.leave':
      return `left group ${String(p['groupId'])}: ${String(p['reason'])}`;
    case 'group.coordinator':
      return `group ${String(p['groupId'])}: coordinator is broker ${String(p['nodeId'])} at ${String(p['broker'])}`;
    default:
      return `consumer${p['groupId'] === undefined ? '' : ` of group ${String(p['groupId'])}`} crashed${p['restart'] === true ? ' (restarting)' : ''}: ${p.error!.message}`;
  }
}

export function eventLevel<E extends ClientEventName>(event: E, payload: ClientEvents[E][0]): Level {
  // A connection the client closed itself is routine; one that broke is worth a warning.
  if (event === 'disconnect' && (payload as { error?: Error }).error === undefined) return 'debug';
  return LEVELS[event];
}

/** Checks a user's logger has the four methods (a typo there would otherwise be silent). */
export function checkLogger(logger: unknown): Logger | null {
  if (logger === undefined) return null;
  const candidate = logger as Record<string, unknown> | null;
  const missing = (['debug', 'info', 'warn', 'error'] as const).filter((level) => typeof candidate?.[level] !== 'function');
  if (missing.length === 0) return logger as Logger;
  throw new TypeError(`logger must have debug, info, warn and error methods (pino's interface); missing: ${missing.join(', ')}`);
}
