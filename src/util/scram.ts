// SCRAM (RFC 5802, with RFC 7677's SHA-256 and Kafka's SHA-512) primitives shared by the
// broker's server side (security/scram.ts) and the SDK's client side (client/sasl.ts): the
// key derivation, the attribute grammar and the limits. Here because both layers need them
// and neither may import the other (one home per fact, one layer down).
//
//   SaltedPassword  = Hi(password, salt, i)          PBKDF2-HMAC-H, dkLen = H's size
//   ClientKey       = HMAC(SaltedPassword, "Client Key")
//   StoredKey       = H(ClientKey)
//   ServerKey       = HMAC(SaltedPassword, "Server Key")
//   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
//   ClientSignature = HMAC(StoredKey, AuthMessage);  ClientProof = ClientKey XOR ClientSignature
//   ServerSignature = HMAC(ServerKey, AuthMessage)
//
// Passwords are taken as their UTF-8 bytes without SASLprep, as Kafka's ScramFormatter does.

import { createHash, createHmac, pbkdf2, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export const ScramMechanisms = {
  'SCRAM-SHA-256': { hash: 'sha256', keyBytes: 32, kafkaType: 1 },
  'SCRAM-SHA-512': { hash: 'sha512', keyBytes: 64, kafkaType: 2 },
} as const;

export type ScramMechanism = keyof typeof ScramMechanisms;

export function isScramMechanism(name: string): name is ScramMechanism {
  return Object.hasOwn(ScramMechanisms, name);
}

/** The mechanism of Kafka's int8 ScramMechanism code (1, 2), or null (0 UNKNOWN or anything else). */
export function scramMechanismOfType(type: number): ScramMechanism | null {
  for (const [name, spec] of Object.entries(ScramMechanisms)) if (spec.kafkaType === type) return name as ScramMechanism;
  return null;
}

export const ScramLimits = {
  /** Kafka's ScramMechanism bounds: fewer is too weak, more lets one login cost a broker too much CPU. */
  minIterations: 4096,
  maxIterations: 16384,
  /** Kafka's default (and the SDK's and CLI's) iteration count. */
  defaultIterations: 4096,
  /** Largest SCRAM or PLAIN message accepted, checked before parsing (a real one is < 400 bytes). */
  maxMessageBytes: 4096,
  /** Bytes of random salt the CLI and bootstrap user get. */
  saltBytes: 32,
  /** Client nonce length bounds (printable characters, no ','). */
  minNonceChars: 8,
  maxNonceChars: 256,
  /** A user name in UTF-8 bytes. */
  maxUserNameBytes: 256,
} as const;

export interface ScramKeys {
  storedKey: Buffer;
  serverKey: Buffer;
}

export function hmac(mechanism: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(ScramMechanisms[mechanism].hash, key).update(data).digest();
}

export function hash(mechanism: ScramMechanism, data: Buffer): Buffer {
  return createHash(ScramMechanisms[mechanism].hash).update(data).digest();
}

export function saltedPasswordSync(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  const { hash: digest, keyBytes } = ScramMechanisms[mechanism];
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyBytes, digest);
}

/** Hi() off the event loop (libuv's thread pool): 4096 iterations cost a few ms of CPU. */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const { hash: digest, keyBytes } = ScramMechanisms[mechanism];
  return new Promise((resolve, reject) =>
    pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, keyBytes, digest, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export function clientKeyOf(mechanism: ScramMechanism, salted: Buffer): Buffer {
  return hmac(mechanism, salted, 'Client Key');
}

export function keysOf(mechanism: ScramMechanism, salted: Buffer): ScramKeys {
  return { storedKey: hash(mechanism, clientKeyOf(mechanism, salted)), serverKey: hmac(mechanism, salted, 'Server Key') };
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ (b[i] ?? 0);
  return out;
}

/** Constant-time equality of two byte strings (false, without a timing signal, when the lengths differ). */
export function equalBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** RFC 5802 saslname: '=' and ',' escaped as =3D and =2C. */
export function encodeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The name of a saslname, or null when it has an '=' that is not =2C or =3D. */
export function decodeSaslName(text: string): string | null {
  if (/=(?!2C|3D)/.test(text)) return null;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * `a=1,b=2,...` as ordered [key, value] pairs; null when a part is not letters, '=', and a
 * value. RFC 5802 keys are one letter; Kafka's extensions (`tokenauth=true`) are words.
 * Values may contain '=' (base64) but not ','.
 */
export function parseAttributes(text: string): Array<[string, string]> | null {
  const attributes: Array<[string, string]> = [];
  for (const part of text.split(',')) {
    const equals = part.indexOf('=');
    if (equals < 1 || !/^[A-Za-z]+$/.test(part.slice(0, equals))) return null;
    attributes.push([part.slice(0, equals), part.slice(equals + 1)]);
  }
  return attributes;
}

/** Printable ASCII except ',' (RFC 5802 `printable`), within the nonce length bounds. */
export function isValidNonce(nonce: string, maxChars: number = ScramLimits.maxNonceChars): boolean {
  return nonce.length >= ScramLimits.minNonceChars && nonce.length <= maxChars && /^[\x21-\x2b\x2d-\x7e]+$/.test(nonce);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (canonical padding), or null. */
export function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}
