// The server side of one SCRAM exchange (RFC 5802, RFC 7677), as Kafka's ScramSaslServer
// does it: two client messages, two answers, then the principal.
//
//   client-first  = gs2-header client-first-bare
//   gs2-header    = "n," ["a=" saslname] ","        (no channel binding: 'n' only, as Kafka)
//   client-first-bare = "n=" saslname ",r=" c-nonce ["," extensions]
//   server-first  = "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations
//   client-final  = "c=" base64(gs2-header) ",r=" c-nonce s-nonce ["," extensions] ",p=" base64(ClientProof)
//   server-final  = "v=" base64(ServerSignature)
//
// Checks: every message at most ScramLimits.maxMessageBytes (before it is decoded), strict
// UTF-8, the grammar above; an authzid, if given, equal to the user (Kafka); the
// `tokenauth=true` extension refused (no delegation tokens); the final nonce ending with
// c-nonce s-nonce (Kafka's rule: librdkafka repeats its c-nonce in front); c= equal to the gs2 header sent first; the proof as long as the hash,
// and H(ClientProof XOR ClientSignature) equal to StoredKey, compared in constant time.
//
// An unknown user gets a server-first like a known one (a salt derived from the user name
// and a per-broker secret, the default iteration count) and fails only at the proof, with
// the same answer as a wrong password: the exchange does not tell who exists.

import { randomBytes } from 'node:crypto';
import {
  decodeBase64,
  decodeSaslName,
  equalBytes,
  hash,
  hmac,
  isValidNonce,
  parseAttributes,
  ScramLimits,
  ScramMechanisms,
  xor,
  type ScramMechanism,
} from '../util/scram.js';
import type { ScramCredential } from './credential-store.js';

/** Why an exchange failed: `reason` is for the broker's log only; clients get a fixed text for credential failures. */
export class SaslFailure extends Error {
  constructor(
    readonly reason: string,
    /** The user name the client gave, when it got that far (for the log line). */
    readonly user: string | null,
    /** True for a wrong password or unknown user (the client is told only "invalid credentials"). */
    readonly badCredentials: boolean,
  ) {
    super(reason);
    this.name = 'SaslFailure';
  }
}

/** The result of one client message: the bytes to answer with; `user` once the exchange has succeeded. */
export interface SaslStep {
  response: Buffer;
  user: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A message as text, or a SaslFailure: over the size limit (checked before decoding) or not UTF-8. */
export function messageText(message: Buffer, what: string, user: string | null = null): string {
  if (message.length > ScramLimits.maxMessageBytes) throw new SaslFailure(`${what} of ${message.length} bytes, more than ${ScramLimits.maxMessageBytes}`, user, false);
  try {
    return utf8.decode(message);
  } catch {
    // Safe: the caller fails the exchange with this reason.
    throw new SaslFailure(`${what} is not UTF-8`, user, false);
  }
}

type State =
  | { kind: 'first' }
  | { kind: 'final'; user: string; gs2Header: string; clientFirstBare: string; serverFirst: string; nonce: string; credential: ScramCredential; known: boolean }
  | { kind: 'done' };

export class ScramServer {
  private state: State = { kind: 'first' };

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    /** Per-broker secret from which unknown users' fake salts are derived. */
    private readonly fakeSaltSecret: Buffer,
  ) {}

  /** The next answer; throws SaslFailure (the exchange is then over). */
  step(message: Buffer): SaslStep {
    const state = this.state;
    this.state = { kind: 'done' };
    if (state.kind === 'first') return this.first(message);
    if (state.kind === 'final') return this.final(message, state);
    throw new SaslFailure('a SCRAM message after the exchange ended', null, false);
  }

  private first(message: Buffer): SaslStep {
    const text = messageText(message, 'client-first message');
    const match = /^n,(?:a=([^,]*))?,(.*)$/s.exec(text);
    if (!match) throw new SaslFailure('client-first message: gs2 header is not "n,," or "n,a=<name>," (channel binding is not supported)', null, false);
    const gs2Header = text.slice(0, text.length - match[2]!.length);
    const clientFirstBare = match[2]!;
    const attributes = parseAttributes(clientFirstBare);
    if (!attributes || attributes.length < 2 || attributes[0]![0] !== 'n' || attributes[1]![0] !== 'r') {
      throw new SaslFailure('client-first message: expected n=<user>,r=<nonce>', null, false);
    }
    const user = decodeSaslName(attributes[0]![1]);
    if (user === null || user.length === 0 || Buffer.byteLength(user) > ScramLimits.maxUserNameBytes) throw new SaslFailure('client-first message: bad user name', null, false);
    if (match[1] !== undefined) {
      const authzid = decodeSaslName(match[1]);
      if (authzid !== user) throw new SaslFailure('client-first message: the authorization id differs from the user name', user, false);
    }
    const clientNonce = attributes[1]![1];
    if (!isValidNonce(clientNonce)) throw new SaslFailure('client-first message: bad nonce', user, false);
    checkExtensions(attributes.slice(2), user);
    const stored = this.lookup(user);
    const credential = stored ?? this.fakeCredential(user);
    const nonce = clientNonce + randomBytes(24).toString('base64');
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.state = { kind: 'final', user, gs2Header, clientFirstBare, serverFirst, nonce, credential, known: stored !== undefined };
    return { response: Buffer.from(serverFirst, 'utf8'), user: null };
  }

  private final(message: Buffer, state: Extract<State, { kind: 'final' }>): SaslStep {
    const { user } = state;
    const text = messageText(message, 'client-final message', user);
    const attributes = parseAttributes(text);
    if (!attributes || attributes.length < 3 || attributes[0]![0] !== 'c' || attributes[1]![0] !== 'r' || attributes.at(-1)![0] !== 'p') {
      throw new SaslFailure('client-final message: expected c=<binding>,r=<nonce>,...,p=<proof>', user, false);
    }
    const binding = decodeBase64(attributes[0]![1]);
    if (binding === null || binding.toString('utf8') !== state.gs2Header) throw new SaslFailure('client-final message: channel binding does not match the gs2 header', user, false);
    // Kafka's check is "ends with" (ScramSaslServer): librdkafka sends its client nonce again in
    // front of the whole nonce. The nonce is inside the signed AuthMessage either way.
    const finalNonce = attributes[1]![1];
    if (finalNonce.length > 2 * ScramLimits.maxNonceChars + 64 || !finalNonce.endsWith(state.nonce)) throw new SaslFailure('client-final message: wrong nonce', user, false);
    checkExtensions(attributes.slice(2, -1), user);
    const proof = decodeBase64(attributes.at(-1)![1]);
    const { keyBytes } = ScramMechanisms[this.mechanism];
    if (proof === null || proof.length !== keyBytes) throw new SaslFailure('client-final message: bad proof', user, false);
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
    const { storedKey, serverKey } = state.credential;
    const clientSignature = hmac(this.mechanism, storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    const matches = equalBytes(hash(this.mechanism, clientKey), storedKey);
    if (!matches || !state.known) throw new SaslFailure(state.known ? 'wrong password' : 'unknown user', user, true);
    const serverSignature = hmac(this.mechanism, serverKey, authMessage);
    return { response: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user };
  }

  /** A credential nobody can pass, stable per user name, so a probe sees the same salt twice. */
  private fakeCredential(user: string): ScramCredential {
    const { keyBytes } = ScramMechanisms[this.mechanism];
    return {
      salt: hmac(this.mechanism, this.fakeSaltSecret, `salt\u0000${user}`).subarray(0, ScramLimits.saltBytes),
      iterations: ScramLimits.defaultIterations,
      storedKey: randomBytes(keyBytes),
      serverKey: randomBytes(keyBytes),
    };
  }
}

/** Extensions are `<word>=<value>` (Kafka's); `tokenauth=true` would ask for a delegation token, which spool does not have. */
function checkExtensions(extensions: Array<[string, string]>, user: string): void {
  for (const [key, value] of extensions) {
    if (key.length === 1) throw new SaslFailure(`unexpected attribute ${key}= (mandatory extensions are not supported)`, user, false);
    if (key === 'tokenauth' && value.toLowerCase() === 'true') throw new SaslFailure('delegation tokens (tokenauth) are not supported', user, false);
  }
}
