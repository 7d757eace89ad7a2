// An in-process broker with SASL on, for the security tests: SCRAM-SHA-256 (failed logins
// delayed 1 ms, not 100), a Kafka listener, the bootstrap user admin/admin-secret as a
// super user, nothing fsynced, silent. Each test overrides what it is about.

import { startBroker, silentLogger, type Broker, type BrokerOptions } from '../../src/broker/index.js';

export const SASL_ADMIN = { name: 'admin', password: 'admin-secret' } as const;

export function startSaslBroker(dataDir: string, overrides: Partial<BrokerOptions> = {}): Promise<Broker> {
  return startBroker({
    dataDir,
    port: 0,
    fsync: { kind: 'never' },
    logger: silentLogger,
    kafkaListener: { host: '127.0.0.1', port: 0 },
    sasl: { mechanisms: ['SCRAM-SHA-256'], failedAuthenticationDelayMs: 1 },
    bootstrapUser: { ...SASL_ADMIN },
    superUsers: ['User:admin'],
    ...overrides,
  });
}
