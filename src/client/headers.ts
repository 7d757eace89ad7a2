// Producer headers in the shapes kafkajs users write: an object whose values are a
// string, a Buffer, or an array of them (one header per element, in order, so a key can
// repeat), or an ordered list of [key, value] pairs (what a consumer's headerList holds,
// so it can be produced again as is). Anything else used to be encoded as garbage
// without a word (an array became `\0\0`); it is now a TypeError naming the header.

export type HeaderValue = Buffer | string;
export type ProducerHeaders = Record<string, HeaderValue | HeaderValue[]> | Array<[string, HeaderValue]>;

function isHeaderValue(value: unknown): value is HeaderValue {
  return typeof value === 'string' || Buffer.isBuffer(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Null when `headers` is well formed; otherwise the TypeError to reject the send with
 * (`where` names the message).
 */
export function checkHeaders(headers: unknown, where: string): TypeError | null {
  if (headers === null || typeof headers !== 'object') return new TypeError(`${where}: headers must be an object of string | Buffer | array values, got ${typeName(headers)}`);
  if (Array.isArray(headers)) {
    for (let index = 0; index < headers.length; index++) {
      const pair: unknown = headers[index];
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isHeaderValue(pair[1])) {
        return new TypeError(`${where}: header list entry ${index} must be a [key: string, value: string | Buffer] pair`);
      }
    }
    return null;
  }
  const record = headers as Record<string, unknown>;
  for (const name in record) {
    const value = record[name];
    if (isHeaderValue(value)) continue;
    if (Array.isArray(value)) {
      const bad = value.findIndex((element) => !isHeaderValue(element));
      if (bad < 0) continue;
      return new TypeError(`${where}: header "${name}"[${bad}] must be a string or a Buffer, got ${typeName(value[bad])}`);
    }
    return new TypeError(`${where}: header "${name}" must be a string, a Buffer or an array of them, got ${typeName(value)}`);
  }
  return null;
}

/**
 * The headers in the form records' BatchBuilder encodes: the object itself when no value
 * is an array (the common case: no allocation), else an ordered [key, value] list with
 * one entry per array element. Call after checkHeaders.
 */
export function encodableHeaders(headers: ProducerHeaders): Record<string, HeaderValue> | Array<[string, HeaderValue]> {
  if (Array.isArray(headers)) return headers;
  let hasArray = false;
  for (const name in headers) {
    if (Array.isArray(headers[name])) {
      hasArray = true;
      break;
    }
  }
  if (!hasArray) return headers as Record<string, HeaderValue>;
  const list: Array<[string, HeaderValue]> = [];
  for (const name in headers) {
    const value = headers[name]!;
    if (Array.isArray(value)) for (const element of value) list.push([name, element]);
    else list.push([name, value]);
  }
  return list;
}

/** Rough encoded size of the headers (string length, not UTF-8 bytes) for the batch-size decision. */
export function estimateHeaderBytes(headers: ProducerHeaders): number {
  let bytes = 0;
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) bytes += 8 + name.length + value.length;
    return bytes;
  }
  for (const name in headers) {
    const value = headers[name]!;
    if (Array.isArray(value)) for (const element of value) bytes += 8 + name.length + element.length;
    else bytes += 8 + name.length + value.length;
  }
  return bytes;
}
