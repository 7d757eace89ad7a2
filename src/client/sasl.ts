// The client side of SASL for the SDK: `sasl: { mechanism, username, password }` as kafkajs
// spells it. Every new connection authenticates right after its ApiVersions handshake and
// before any other request: SaslHandshake(mechanism), then SaslAuthenticate with the
// mechanism's messages (see src/security/README.md "SASL" for the exchange).
//
// SCRAM (RFC 5802) client checks: the server nonce starts with ours and is longer; the salt
// is base64; the iteration count is within [4096, 16384] (fewer is a downgrade, more a
// way to make the client burn CPU); the server signature (v=) matches, in constant time,
// so a server that does not know the credential cannot pass as the broker.

import { randomBytes } from 'node:crypto';
import { Errors, SpoolError } from '../util/errors.js';
import {
  clientKeyOf,
  decodeBase64,
  encodeSaslName,
  equalBytes,
  hash,
  hmac,
  isValidNonce,
  parseAttributes,
  saltedPassword,
  ScramLimits,
  xor,
  type ScramMechanism,
} from '../util/scram.js';

export type SaslMechanismOption = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslConfig {
  /** 'scram-sha-256', 'scram-sha-512' or 'plain' (any case; PLAIN only over TLS). */
  mechanism: SaslMechanismOption | Uppercase<SaslMechanismOption>;
  username: string;
  password: string;
}

/** Checks a `sasl` option; returns it with the mechanism in Kafka's spelling. */
export function checkSaslConfig(sasl: unknown, where: string): { mechanism: 'PLAIN' | ScramMechanism; username: string; password: string } {
  const config = sasl as Partial<SaslConfig> | null;
  const mechanism = typeof config?.mechanism === 'string' ? config.mechanism.toUpperCase() : '';
  if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') {
    throw new SpoolError(Errors.INVALID_REQUEST, `${where} sasl.mechanism must be 'scram-sha-256', 'scram-sha-512' or 'plain'`);
  }
  if (typeof config?.username !== 'string' || config.username === '' || typeof config.password !== 'string' || config.password === '') {
    throw new SpoolError(Errors.INVALID_REQUEST, `${where} sasl needs a username and a password`);
  }
  return { mechanism, username: config.username, password: config.password };
}

function failed(message: string): SpoolError {
  return new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, message);
}

/** One SCRAM exchange, client side. */
export class ScramClient {
  private readonly clientFirstBare: string;
  private expectedServerSignature: Buffer | null = null;

  constructor(
    readonly mechanism: ScramMechanism,
    username: string,
    private readonly password: string,
    private readonly nonce: string = randomBytes(24).toString('base64'),
  ) {
    this.clientFirstBare = `n=${encodeSaslName(username)},r=${nonce}`;
  }

  first(): Buffer {
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  /** The client-final message for the server-first one; rejects with SASL_AUTHENTICATION_FAILED when it is not acceptable. */
  async final(serverFirstBytes: Buffer): Promise<Buffer> {
    if (serverFirstBytes.length > ScramLimits.maxMessageBytes) throw failed('the server-first message is too long');
    const serverFirst = serverFirstBytes.toString('utf8');
    const attributes = parseAttributes(serverFirst);
    if (!attributes || attributes.length < 3 || attributes[0]![0] !== 'r' || attributes[1]![0] !== 's' || attributes[2]![0] !== 'i') {
      throw failed('the server-first message is malformed');
    }
    const nonce = attributes[0]![1];
    if (!nonce.startsWith(this.nonce) || nonce.length <= this.nonce.length || !isValidNonce(nonce, ScramLimits.maxNonceChars * 2)) {
      throw failed('the server nonce does not extend the client nonce');
    }
    const salt = decodeBase64(attributes[1]![1]);
    const iterationsText = attributes[2]![1];
    const iterations = Number(iterationsText);
    if (salt === null || salt.length === 0) throw failed('the server-first message has a bad salt');
    if (!/^\d+$/.test(iterationsText) || iterations < ScramLimits.minIterations || iterations > ScramLimits.maxIterations) {
      throw failed(`the server asks for ${iterationsText} iterations (accepted: ${ScramLimits.minIterations}..${ScramLimits.maxIterations})`);
    }
    const salted = await saltedPassword(this.mechanism, this.password, salt, iterations);
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientKey = clientKeyOf(this.mechanism, salted);
    const proof = xor(clientKey, hmac(this.mechanism, hash(this.mechanism, clientKey), authMessage));
    this.expectedServerSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final message (v=ServerSignature); throws SASL_AUTHENTICATION_FAILED otherwise. */
  verify(serverFinalBytes: Buffer): void {
    const text = serverFinalBytes.toString('utf8');
    if (this.expectedServerSignature === null) throw failed('server-final message before client-final');
    if (text.startsWith('e=')) throw failed(`the server refused: ${text.slice(2)}`);
    const signature = text.startsWith('v=') ? decodeBase64(text.slice(2)) : null;
    if (signature === null || !equalBytes(signature, this.expectedServerSignature)) throw failed('the server signature does not match: the broker does not know this credential');
  }
}

/** `[authzid] NUL user NUL password` (RFC 4616), authzid left empty. */
export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
}
