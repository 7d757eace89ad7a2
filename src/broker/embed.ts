// The embeddable broker, published as `spool/broker`: a real broker in the caller's process
// for their own tests (the way people use Testcontainers, without a container):
//
//   import { startBroker } from 'spool/broker';
//   const broker = await startBroker();            // 127.0.0.1, port 0, a fresh temp data dir
//   const client = new Client({ brokers: [broker.address] });
//   ...
//   await broker.close();                           // stops it and removes the temp dir
//
// It is the same broker `spool serve` runs (broker.ts), with defaults for tests: port 0, a
// temp data directory it owns, no log lines. A data directory the caller names is kept.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker as startCoreBroker, type Broker } from './broker.js';
import { silentLogger } from './logger.js';
import type { BrokerOptions } from './options.js';

export interface EmbeddedBrokerOptions extends Omit<BrokerOptions, 'dataDir'> {
  /** Where the logs live. Default: a fresh directory under os.tmpdir(), removed by close(). */
  dataDir?: string;
}

export interface EmbeddedBroker {
  /** "host:port" of the spool protocol, for `new Client({ brokers: [address] })`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** "host:port" of the Kafka listener when `kafkaListener` was given, else undefined. */
  readonly kafkaAddress: string | undefined;
  readonly dataDir: string;
  /** The running broker (connection count, stats). */
  readonly broker: Broker;
  /** Graceful shutdown, then removal of the data directory if startBroker made it; idempotent. */
  close(): Promise<void>;
}

/** Starts a broker on 127.0.0.1, port 0 and a temp data dir unless told otherwise. */
export async function startBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'spool-embedded-'));
  let broker: Broker;
  try {
    broker = await startCoreBroker({ host: '127.0.0.1', port: 0, logger: silentLogger, ...options, dataDir });
  } catch (error) {
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    address: `${broker.host}:${broker.port}`,
    host: broker.host,
    port: broker.port,
    kafkaAddress: broker.kafka ? `${broker.kafka.host}:${broker.kafka.port}` : undefined,
    dataDir,
    broker,
    close(): Promise<void> {
      closing ??= broker.close().then(() => {
        if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
      });
      return closing;
    },
  };
}

export type { BrokerOptions } from './options.js';
/** To see the broker's log lines: `startBroker({ logger: streamLogger() })` (stderr, level info). */
export { streamLogger, type Logger } from './logger.js';
