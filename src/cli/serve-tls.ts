// The TLS flags of `spool serve` (src/security/README.md "TLS"):
//
//   --tls-cert F --tls-key F [--tls-ca F] [--tls-client-auth none|requested|required]
//   [--tls-listeners native,kafka,http]
//
// One certificate serves every listener that is on (native, Kafka, admin HTTP) unless
// --tls-listeners names fewer: `--tls-listeners native,kafka` keeps the HTTP port plain
// (a probe or a Prometheus without certificates on a management network). SIGHUP reads
// the files again (security/tls.ts: new handshakes use them, open connections stay).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { TlsClientAuths, TlsContext, type ListenerTls, type Logger, type TlsClientAuth } from '../broker/index.js';

export const TlsListenerNames = ['native', 'kafka', 'http'] as const;
export type TlsListenerName = (typeof TlsListenerNames)[number];

export interface ServeTlsOptions {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientAuth: TlsClientAuth;
  tlsListeners: TlsListenerName[];
}

function listenerList(value: string): TlsListenerName[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!(TlsListenerNames as readonly string[]).includes(name)) throw new InvalidArgumentError(`--tls-listeners takes a comma-separated list of ${TlsListenerNames.join(', ')}, got '${name}'`);
  }
  return names as TlsListenerName[];
}

export function addTlsOptions(command: Command): Command {
  return command
    .option('--tls-cert <file>', "TLS: the broker's certificate chain (PEM); turns TLS on for --tls-listeners")
    .option('--tls-key <file>', "TLS: the certificate's private key (PEM, unencrypted)")
    .option('--tls-ca <file>', 'TLS: CAs (PEM) client certificates must chain to (needed for --tls-client-auth requested|required)')
    .addOption(new Option('--tls-client-auth <mode>', 'TLS client certificates (mTLS): none | requested | required; the principal is the subject').choices(TlsClientAuths).default('none'))
    .addOption(new Option('--tls-listeners <names>', 'listeners that speak TLS when --tls-cert is given').argParser(listenerList).default([...TlsListenerNames], TlsListenerNames.join(',')));
}

/** The TLS contexts per listener, or null when TLS is off; throws a UsageError-like Error for inconsistent flags. */
export function tlsFromOptions(options: ServeTlsOptions): { context: TlsContext; listeners: ListenerTls; http: TlsContext | undefined } | null {
  if (options.tlsCert === undefined || options.tlsKey === undefined) {
    if (options.tlsCert !== undefined || options.tlsKey !== undefined) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
    if (options.tlsCa !== undefined || options.tlsClientAuth !== 'none') throw new InvalidArgumentError('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
    return null;
  }
  const context = TlsContext.load({ certFile: options.tlsCert, keyFile: options.tlsKey, caFile: options.tlsCa, clientAuth: options.tlsClientAuth });
  const on = new Set(options.tlsListeners);
  return {
    context,
    listeners: { ...(on.has('native') ? { native: context } : {}), ...(on.has('kafka') ? { kafka: context } : {}) },
    http: on.has('http') ? context : undefined,
  };
}

/** SIGHUP reloads the certificate files; a bad file keeps the old ones and says why. Never logs file contents. */
export function reloadTlsOnSighup(context: TlsContext, logger: Logger, listeners: TlsListenerName[]): void {
  const { certFile, keyFile, caFile } = context.files;
  logger.info(`TLS on ${listeners.join(', ') || 'no listener that is on (see --tls-listeners)'} with ${certFile} (client auth: ${context.clientAuth}); SIGHUP reloads it`, { certFile, keyFile, caFile: caFile ?? null, clientAuth: context.clientAuth });
  process.on('SIGHUP', () => {
    try {
      context.reload();
      logger.info(`SIGHUP: reloaded TLS certificates from ${context.files.certFile}`, { certFile: context.files.certFile, keyFile: context.files.keyFile, caFile: context.files.caFile ?? null });
    } catch (error) {
      logger.warn(`SIGHUP: TLS reload failed, keeping the certificates in use: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** How --print-config writes --tls-listeners. */
export function formatTlsListeners(value: unknown): string {
  return (value as string[]).join(',');
}
