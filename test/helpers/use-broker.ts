// One broker process and one Client shared by the tests of a file (or of the describe block
// that calls useBroker): started in beforeAll, closed and removed in afterAll. The accessors
// throw if called before beforeAll has run (e.g. at module load), instead of handing out
// undefined.

import { afterAll, beforeAll } from 'vitest';
import { Client } from '../../src/client/index.js';
import { startBroker, type BrokerProcess } from './broker.js';

export interface SharedBroker {
  broker(): BrokerProcess;
  /** "127.0.0.1:<port>" of the broker. */
  address(): string;
  /** A Client connected to the broker, closed before the broker stops. */
  client(): Client;
  /** "127.0.0.1:<port>" of the Kafka listener (args must turn it on: --kafka-listener 127.0.0.1:0). */
  kafka(): string;
}

/**
 * Registers beforeAll/afterAll hooks that start a broker (`spool serve` with `args`) and a
 * Client for it. vitest runs afterAll hooks in reverse order of registration, so an
 * afterAll registered after this call (stopping consumers or child processes) runs while
 * the broker is still up.
 */
export function useBroker(args: string[] = []): SharedBroker {
  let broker: BrokerProcess | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    broker = await startBroker({ args });
    client = new Client({ brokers: [broker.address] });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  const started = (): BrokerProcess => {
    if (broker === undefined) throw new Error('useBroker: the broker starts in beforeAll; use it inside a test or hook');
    return broker;
  };
  return {
    broker: started,
    address: () => started().address,
    kafka: () => {
      const address = started().kafkaAddress;
      if (address === undefined) throw new Error(`useBroker: no Kafka listener (pass --kafka-listener); stderr: ${started().stderr()}`);
      return address;
    },
    client: () => {
      if (client === undefined) throw new Error('useBroker: the client is made in beforeAll; use it inside a test or hook');
      return client;
    },
  };
}
