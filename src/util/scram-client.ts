// One SCRAM exchange (RFC 5802), client side: the SDK's connections (client/connection.ts)
// and a broker's own logins to its peers (broker/peer-connection.ts) both use it, so there is
// one implementation; here, one layer below both, beside the primitives in scram.ts.
//
// Client checks: the server nonce starts with ours and is longer; the salt is base64; the
// iteration count is within [4096, 16384] (fewer is a downgrade, more a way to make the
// client burn CPU); the server signature (v=) matches, in constant time, so a server that
// does not know the credential cannot pass as the broker.

import { randomBytes } from 'node:crypto';
import { Errors, SpoolError } from './errors.js';
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
} from './scram.js';

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
