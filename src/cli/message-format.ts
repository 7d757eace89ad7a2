// How `spool consume` prints a message and how `spool produce` reads one: the byte
// encoding of keys, values and header values (utf8 | hex | base64), the output formats
// (text, json, a kcat-style %-template) and the message delimiter (-D, with \n \t \0 \xNN
// escapes). JSON output is lossless: with utf8, a message whose key, value or a header
// value is not valid UTF-8 is written with "encoding":"base64" instead of mangling bytes.

import { isUtf8 } from 'node:buffer';
import { InvalidArgumentError } from 'commander';
import type { ConsumedMessage } from '../client/index.js';

export const ENCODINGS = ['utf8', 'hex', 'base64'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** Bytes as text in an encoding (utf8 replaces invalid sequences: only json falls back to base64). */
export function encodeBytes(bytes: Buffer, encoding: Encoding): string {
  return bytes.toString(encoding);
}

/** Text from stdin or a flag back to bytes; hex and base64 are checked (a typo is an error, not garbage). */
export function decodeBytes(text: Buffer, encoding: Encoding, what: string): Buffer {
  if (encoding === 'utf8') return text;
  const string = text.toString('latin1').trim();
  const valid = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/.test(string) : /^[A-Za-z0-9+/_-]*={0,2}$/.test(string) && string.length % 4 !== 1;
  if (!valid) throw new InvalidArgumentError(`${what} is not valid ${encoding}: '${string.slice(0, 40)}'`);
  return Buffer.from(string, encoding);
}

/**
 * A delimiter as given on the command line, with escapes: \n \r \t \0 \\ and \xNN.
 * An empty delimiter is refused (it could never split anything).
 */
export function parseDelimiter(value: string): Buffer {
  const bytes: number[] = [];
  for (let index = 0; index < value.length; index++) {
    const char = value[index]!;
    if (char !== '\\' || index === value.length - 1) {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = value[++index]!;
    const simple: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, '0': 0x00, '\\': 0x5c };
    if (simple[next] !== undefined) bytes.push(simple[next]!);
    else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(index + 1, index + 3))) {
      bytes.push(parseInt(value.slice(index + 1, index + 3), 16));
      index += 2;
    } else bytes.push(0x5c, ...Buffer.from(next, 'utf8'));
  }
  if (bytes.length === 0) throw new InvalidArgumentError('the delimiter must not be empty');
  return Buffer.from(bytes);
}

export type MessageFormatter = (message: ConsumedMessage) => string;

/** text: the value (`null` for none); json: one object; anything else: a %-template. */
export function messageFormatter(format: string, encoding: Encoding): MessageFormatter {
  if (format === 'text') return (message) => (message.value === null ? 'null' : encodeBytes(message.value, encoding));
  if (format === 'json') return (message) => formatJson(message, encoding);
  return templateFormatter(format, encoding);
}

/**
 * timestamp is epoch milliseconds; key, value and header values are strings in the encoding
 * (null when null). With encoding utf8 and bytes that are not UTF-8, the whole object is
 * written in base64 and says so with "encoding":"base64"; hex/base64 output always says so.
 */
function formatJson(message: ConsumedMessage, requested: Encoding): string {
  const encoding = requested === 'utf8' && !allUtf8(message) ? 'base64' : requested;
  const text = (bytes: Buffer | null): string | null => (bytes === null ? null : bytes.toString(encoding));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = value.toString(encoding);
  const object: Record<string, unknown> = {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: text(message.key),
    value: text(message.value),
    headers,
  };
  // Repeated header keys: `headers` keeps the last; the full ordered list only when it differs.
  if (message.headerList.length !== Object.keys(message.headers).length) {
    object['headerList'] = message.headerList.map(([name, value]) => [name, value.toString(encoding)]);
  }
  if (encoding !== 'utf8') object['encoding'] = encoding;
  return JSON.stringify(object);
}

function allUtf8(message: ConsumedMessage): boolean {
  if (message.key !== null && !isUtf8(message.key)) return false;
  if (message.value !== null && !isUtf8(message.value)) return false;
  for (const [, value] of message.headerList) if (!isUtf8(value)) return false;
  return true;
}

/** kcat's -f tokens spool supports (documented in README.md). */
const TEMPLATE_TOKENS = 'tpoTkvKSh%';

/**
 * A kcat-style template: %t topic, %p partition, %o offset, %T timestamp (ms), %k key,
 * %v value (empty when null), %K / %S key / value length (-1 when null), %h headers as
 * k=v,k=v, %% a percent sign; \n \t \r \0 \\ escapes. Parsed once into parts.
 */
export function templateFormatter(template: string, encoding: Encoding): MessageFormatter {
  const literal = parseDelimiter(template).toString('utf8');
  const parts: Array<string | ((message: ConsumedMessage) => string)> = [];
  let text = '';
  for (let index = 0; index < literal.length; index++) {
    const char = literal[index]!;
    if (char !== '%') {
      text += char;
      continue;
    }
    const token = literal[index + 1];
    if (token === undefined || !TEMPLATE_TOKENS.includes(token)) {
      throw new InvalidArgumentError(`--format: unknown token %${token ?? ''} (use text, json, or a template of %t %p %o %T %k %v %K %S %h %%)`);
    }
    index++;
    if (token === '%') {
      text += '%';
      continue;
    }
    if (text !== '') parts.push(text);
    text = '';
    parts.push(templateToken(token, encoding));
  }
  if (text !== '') parts.push(text);
  return (message) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(message);
    return out;
  };
}

function templateToken(token: string, encoding: Encoding): (message: ConsumedMessage) => string {
  const bytes = (value: Buffer | null): string => (value === null ? '' : value.toString(encoding));
  switch (token) {
    case 't':
      return (message) => message.topic;
    case 'p':
      return (message) => String(message.partition);
    case 'o':
      return (message) => String(message.offset);
    case 'T':
      return (message) => String(message.timestamp);
    case 'k':
      return (message) => bytes(message.key);
    case 'v':
      return (message) => bytes(message.value);
    case 'K':
      return (message) => String(message.key === null ? -1 : message.key.length);
    case 'S':
      return (message) => String(message.value === null ? -1 : message.value.length);
    case 'h':
      return (message) => message.headerList.map(([name, value]) => `${name}=${value.toString(encoding)}`).join(',');
    default:
      throw new Error(`assertion: template token ${token} not handled`);
  }
}

/** A --format value: text, json or a template with at least one % token. */
export function parseFormat(value: string): string {
  if (value === 'text' || value === 'json') return value;
  if (!value.includes('%')) throw new InvalidArgumentError(`--format must be text, json or a template such as '%k %v %p %o %T %h', got '${value}'`);
  templateFormatter(value, 'utf8'); // checks the tokens now, as a usage error
  return value;
}
