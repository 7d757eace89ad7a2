// `spool serve`: runs the broker in this process. Prints on stdout
// `spool http listening on <host>:<port>` (the admin HTTP port, unless --http off; it
// starts before the storage opens, so /readyz can say "opening" during recovery), then
// `spool kafka listening on <host>:<port>` (with --kafka-listener), and last
// `spool listening on <host>:<port>` (port 0 picks a free port; the lines tell which),
// logs on stderr (--log-level, --log-format text|json), and shuts down gracefully on SIGINT/SIGTERM (stop accepting, finish
// in-flight requests, flush, close files, exit 0). A second signal exits at once (1).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_FETCH_MAX_BYTES, DEFAULT_FSYNC, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_PORT, parseFsyncPolicy, parseHostPort, startBroker, streamLogger, type HostPort } from '../broker/index.js';
import { DEFAULT_CONNECTIONS_MAX_IDLE_MS, DEFAULT_QUEUED_MAX_REQUEST_BYTES, DEFAULT_REQUEST_READ_TIMEOUT_MS } from '../broker/index.js';
import { jsonLogger, BrokerMetrics, LogLevels, type LogLevel, type Logger } from '../broker/index.js';
import { DEFAULT_HTTP_PORT, serveWithHttp } from '../http/index.js';
import { applyServeConfig, effectiveConfig } from './serve-config.js';
import { addTlsOptions, formatTlsListeners, reloadTlsOnSighup, tlsFromOptions, type ServeTlsOptions } from './serve-tls.js';
import type { FsyncPolicy } from '../storage/types.js';
import { parseBootstrapUser, parseSaslMechanisms, type SaslMechanism } from '../broker/index.js';
import { notJoinedProducerIds } from '../broker/index.js';
import { addClusterServeOptions, checkClusterOptions, clusterReplication, interBrokerLogin, peerSecurityOf, startClusterNode, type ClusterServeOptions } from './serve-cluster.js';

interface ServeOptions extends ServeTlsOptions, ClusterServeOptions {
  dataDir: string;
  host: string;
  port: number;
  fsync: FsyncPolicy;
  autoCreateTopics: boolean;
  maxRequestBytes: number;
  defaultPartitions: number;
  queuedMaxRequestBytes: number;
  requestReadTimeoutMs: number;
  connectionsMaxIdleMs: number;
  fileMode: number;
  maxOpenFiles?: number;
  fetchMaxBytes: number;
  shareLockDurationMs: number;
  shareDeliveryLimit: number;
  shareMaxInFlightRecords: number;
  kafkaListener?: HostPort;
  kafkaAdvertised?: HostPort;
  authorizer?: 'acl' | 'none';
  superUsers?: string[];
  sasl?: SaslMechanism[];
  saslMaxFailuresPerHost: number;
  saslLockoutMs: number;
  connectionsMaxReauthMs: number;
  /** Whether /metrics takes the console's login and needs Describe on the cluster. */
  metricsAuth: 'none' | 'basic';
  /** 'off' rather than null: commander turns a parser's null into ''. */
  http: HttpAddress | 'off';
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  printConfig?: boolean;
}

interface HttpAddress {
  host: string;
  port: number;
}

export function httpOption(value: string): HttpAddress | 'off' {
  if (value === 'off') return 'off';
  const match = /^(.+):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new InvalidArgumentError(`--http must be host:port (port 0 picks one) or off, got '${value}'`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * `User:admin,User:ops` (or Kafka's `User:admin;User:ops`) -> the principals; each must be
 * Type:name. A comma splits only before the next `Type:`, so a certificate principal
 * (`User:CN=alice,OU=eng`) stays whole.
 */
export function superUsersOption(value: string): string[] {
  const principals = value.split(/;|,(?=\s*[A-Za-z]+:)/).map((part) => part.trim()).filter((part) => part.length > 0);
  for (const principal of principals) {
    if (!/^[A-Za-z]+:.+$/.test(principal)) throw new InvalidArgumentError(`--super-users: a principal is Type:name (User:admin), got '${principal}'`);
  }
  return principals;
}

export function makeLogger(format: 'text' | 'json', level: LogLevel): Logger {
  return format === 'json' ? jsonLogger(level) : streamLogger(undefined, level);
}

function integer(what: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`${what} must be an integer in [${min}, ${max}], got '${value}'`);
    }
    return number;
  };
}

function fileModeOption(value: string): number {
  if (!/^0?[0-7]{3}$/.test(value)) throw new InvalidArgumentError(`--file-mode must be an octal mode such as 0600, got '${value}'`);
  const mode = parseInt(value, 8);
  if ((mode & 0o600) !== 0o600) throw new InvalidArgumentError(`--file-mode must give the owner read and write (0600..0777), got '${value}'`);
  return mode;
}

function hostPortOption(what: string): (value: string) => HostPort {
  return (value) => {
    try {
      return parseHostPort(value, what);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

function formatFsync(policy: FsyncPolicy): string {
  return policy.kind === 'interval' ? String(policy.intervalMs) : policy.kind;
}

function fsyncOption(value: string): FsyncPolicy {
  try {
    return parseFsyncPolicy(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function saslOption(value: string): SaslMechanism[] {
  try {
    return parseSaslMechanisms(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** SPOOL_BOOTSTRAP_USER=name:password (env only: a password has no place in a flag or --print-config). */
function bootstrapUser(): { bootstrapUser?: { name: string; password: string } } {
  const text = process.env['SPOOL_BOOTSTRAP_USER'];
  return text === undefined || text === '' ? {} : { bootstrapUser: parseBootstrapUser(text) };
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the broker')
    .option('--data-dir <dir>', 'data directory', './data')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port', 0, 65535), DEFAULT_PORT)
    .addOption(
      new Option('--fsync <mode>', 'when to fsync appends: always | <ms> (interval) | never')
        .argParser(fsyncOption)
        .default(DEFAULT_FSYNC, `${DEFAULT_FSYNC.kind === 'interval' ? DEFAULT_FSYNC.intervalMs : DEFAULT_FSYNC.kind} (see src/broker/README.md)`),
    )
    .option('--auto-create-topics', 'create unknown topics on produce', false)
    .option('--max-request-bytes <n>', 'largest request frame accepted', integer('--max-request-bytes', 64, 0xffff_ffff), DEFAULT_MAX_REQUEST_BYTES)
    .option('--kafka-listener <host:port>', 'also serve the Kafka wire protocol here (kcat, kafkajs, librdkafka, kafka-python); off unless given', hostPortOption('--kafka-listener'))
    .option('--kafka-advertised <host:port>', 'address Kafka clients are told to use (NAT, containers); default: the Kafka listener', hostPortOption('--kafka-advertised'))
    .option('--sasl <mechanisms>', 'require SASL authentication on both listeners: scram-sha-256,scram-sha-512[,plain] (PLAIN only over TLS); env SPOOL_BOOTSTRAP_USER=name:password creates a first user', saslOption)
    .option('--sasl-max-failures-per-host <n>', 'failed authentications from one host within 60 s that lock it out', integer('--sasl-max-failures-per-host', 1), 10)
    .option('--sasl-lockout-ms <ms>', 'how long a host that failed too often is refused', integer('--sasl-lockout-ms', 0), 60_000)
    .option(
      '--connections-max-reauth-ms <ms>',
      'SASL session lifetime: a connection that does not re-authenticate within it is closed (KIP-368; 0: sessions do not expire)',
      integer('--connections-max-reauth-ms', 0),
      0,
    )
    .option('--fetch-max-bytes <n>', 'most bytes one fetch returns, per request and per partition (at least one batch)', integer('--fetch-max-bytes', 1), DEFAULT_FETCH_MAX_BYTES)
    .option('--share-lock-duration-ms <ms>', 'share groups: how long an acquired record stays locked to its member', integer('--share-lock-duration-ms', 1), 30_000)
    .option('--share-delivery-limit <n>', 'share groups: deliveries before a record goes to the <group>.dlq topic', integer('--share-delivery-limit', 2, 10), 5)
    .option('--share-max-in-flight-records <n>', 'share groups: records in flight per share-partition at most', integer('--share-max-in-flight-records', 100, 4_000), 4_000)
    .option('--default-partitions <n>', 'partitions of auto-created topics', integer('--default-partitions', 1, 100_000), 1)
    .option(
      '--queued-max-request-bytes <n>',
      'request bytes held across all connections (partial and undispatched frames) before connections stop reading',
      integer('--queued-max-request-bytes', 1),
      DEFAULT_QUEUED_MAX_REQUEST_BYTES,
    )
    .option(
      '--request-read-timeout-ms <ms>',
      'close a connection whose request frame is not complete this long after its first byte',
      integer('--request-read-timeout-ms', 1),
      DEFAULT_REQUEST_READ_TIMEOUT_MS,
    )
    .option(
      '--connections-max-idle-ms <ms>',
      'close a connection with nothing in flight and no traffic for this long',
      integer('--connections-max-idle-ms', 1),
      DEFAULT_CONNECTIONS_MAX_IDLE_MS,
    )
    .option('--file-mode <octal>', 'mode of data files; directories get it plus x where it grants r (0600 -> 0700)', fileModeOption, 0o600)
    .option('--max-open-files <n>', 'segment files kept open at once (default: half the soft open-file limit)', integer('--max-open-files', 8, 10_000_000))
    .addOption(new Option('--authorizer <kind>', 'acl: check every request against the ACLs (none match: denied); none: allow all (default: acl when authentication is configured)').choices(['acl', 'none']))
    .option('--super-users <principals>', 'comma-separated principals that bypass the ACLs (User:admin,User:ops)', superUsersOption)
    .addOption(
      new Option('--http <host:port|off>', 'admin HTTP port: /metrics, /healthz, /readyz (port 0 picks one)')
        .argParser(httpOption)
        .default({ host: '127.0.0.1', port: DEFAULT_HTTP_PORT }, `127.0.0.1:${DEFAULT_HTTP_PORT}`),
    )
    .addOption(
      new Option('--metrics-auth <kind>', 'none: /metrics is open (Prometheus scrapes without a password); basic: like the console, HTTP Basic with --sasl, and Describe on the cluster when ACLs are on')
        .choices(['none', 'basic'])
        .default('none'),
    )
    .addOption(new Option('--log-level <level>', 'least severe level logged').choices(LogLevels).default('info'))
    .addOption(new Option('--log-format <format>', 'log lines on stderr: text or json (one object per line)').choices(['text', 'json']).default('text'))
    .option('--config <file>', 'JSON file with any of these flags as camelCase keys ("dataDir": "..."); precedence: flag > SPOOL_* env > file > default')
    .option('--print-config', 'print the effective configuration (as a --config file) and exit')
    .hook('preAction', (command) => applyServeConfig(command))
    .action(async (options: ServeOptions, command: Command) => {
      if (options.printConfig === true) {
        const config = effectiveConfig(command, {
          fsync: (value) => formatFsync(value as FsyncPolicy),
          fileMode: (value) => `0${(value as number).toString(8)}`,
          http: (value) => (value === 'off' ? 'off' : `${(value as HttpAddress).host}:${(value as HttpAddress).port}`),
          superUsers: (value) => (value as string[]).join(';'),
          tlsListeners: formatTlsListeners,
          sasl: (value) => (value as string[]).join(',').toLowerCase(),
        });
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      checkClusterOptions(options);
      // Before anything opens: a cluster with --sasl needs the broker's own login to its peers.
      const peerLogin = interBrokerLogin(options);
      const logger = makeLogger(options.logFormat, options.logLevel);
      const tls = tlsFromOptions(options);
      // Cluster mode: replication on (its states are connected once the broker joins).
      const replication = clusterReplication(options, logger);
      const served = await serveWithHttp({
        ...(tls?.http ? { tls: tls.http } : {}),
        http: options.http === 'off' ? null : { ...options.http, metricsAuthentication: options.metricsAuth === 'basic' },
        metrics: new BrokerMetrics({ processMetrics: true }),
        logger,
        // Printed before the storage opens: the port answers /readyz "opening" during recovery.
        onHttpListening: (http) => process.stdout.write(`spool http listening on ${http.host}:${http.port}\n`),
        open: (metrics) => startBroker({
        dataDir: options.dataDir,
        host: options.host,
        port: options.port,
        fsync: options.fsync,
        autoCreateTopics: options.autoCreateTopics,
        maxRequestBytes: options.maxRequestBytes,
        defaultPartitions: options.defaultPartitions,
        queuedMaxRequestBytes: options.queuedMaxRequestBytes,
        requestReadTimeoutMs: options.requestReadTimeoutMs,
        connectionsMaxIdleMs: options.connectionsMaxIdleMs,
        fileMode: options.fileMode,
        ...(options.maxOpenFiles !== undefined ? { maxOpenFiles: options.maxOpenFiles } : {}),
        fetchMaxBytes: options.fetchMaxBytes,
        shareLockDurationMs: options.shareLockDurationMs,
        shareDeliveryLimit: options.shareDeliveryLimit,
        shareMaxInFlightRecords: options.shareMaxInFlightRecords,
        ...(options.kafkaListener ? { kafkaListener: options.kafkaListener } : {}),
        ...(options.kafkaAdvertised ? { kafkaAdvertised: options.kafkaAdvertised } : {}),
        ...(options.authorizer !== undefined ? { authorizer: options.authorizer } : {}),
        ...(options.superUsers !== undefined ? { superUsers: options.superUsers } : {}),
        ...(options.sasl ? { sasl: { mechanisms: options.sasl, maxFailuresPerHost: options.saslMaxFailuresPerHost, lockoutMs: options.saslLockoutMs, connectionsMaxReauthMs: options.connectionsMaxReauthMs } } : {}),
        ...bootstrapUser(),
        ...(tls ? { tls: tls.listeners } : {}),
        ...(replication ? { replication: replication.settings, coordinatorRoles: replication.coordinatorRoles, offsetsTopicPartitions: options.offsetsTopicPartitions, producerIds: notJoinedProducerIds } : {}),
        logger,
        metrics,
      }),
      });
      const { broker } = served;
      // Cluster mode: register in etcd once the listeners have their ports (null without --cluster).
      const cluster = await startClusterNode(options, { host: broker.host, port: broker.port, kafka: broker.kafka, context: broker.context, ...bootstrapUser() }, logger, replication?.states, replication?.coordinatorRoles, peerSecurityOf(tls?.listeners.native, peerLogin));
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          logger.warn(`${signal} again: exiting without finishing the shutdown`);
          process.exit(1);
        }
        stopping = true;
        logger.info(`${signal}: shutting down`);
        // Leave the cluster first: revoking the lease hands leadership over at once.
        (cluster ? cluster.close() : Promise.resolve()).then(() => served.close()).then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error('shutdown failed', error);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      if (tls) {
        const on = { native: true, kafka: broker.kafka !== null, http: served.http !== null };
        reloadTlsOnSighup(tls.context, logger, options.tlsListeners.filter((name) => on[name]));
      }
      // Only now: a supervisor may send SIGTERM as soon as it reads this line, and it must
      // meet the graceful handler, not the default action.
      // The Kafka line first: the native line is the one scripts wait for, and it comes last.
      if (broker.kafka) process.stdout.write(`spool kafka listening on ${broker.kafka.host}:${broker.kafka.port}\n`);
      process.stdout.write(`spool listening on ${broker.host}:${broker.port}\n`);
    });
  addTlsOptions(serve);
  // Cluster mode's flags, listed after the single-broker ones in --help.
  addClusterServeOptions(serve, hostPortOption);
}
