// Test helper: fast-check arbitraries for any Kafka message at any served version, built from
// the same MessageSchema the codec walks. Only fields present at the version are generated,
// so a decoded value (which also has the absent fields, at their defaults) matches it.

import fc from 'fast-check';
import type { FieldSchema, MessageSchema } from '../../src/kafka/schema.js';

const within = (range: readonly [number, number] | undefined, version: number): boolean => range !== undefined && version >= range[0] && version <= range[1];

function primitive(type: FieldSchema['type']): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'int32':
      return fc.integer();
    case 'uint32':
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case 'int64':
      return fc.maxSafeInteger();
    case 'float64':
      return fc.double({ noNaN: true });
    case 'string':
      return fc.string({ maxLength: 6 });
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes));
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes));
    case 'struct':
      throw new Error('struct is not a primitive');
  }
}

function fieldArbitrary(field: FieldSchema, version: number): fc.Arbitrary<unknown> {
  const element = field.type === 'struct' ? structArbitrary(field.fields!, version) : primitive(field.type);
  const value = field.array ? fc.array(element, { maxLength: 3 }) : element;
  // Elements of an array are never null; the array itself, or a scalar, may be.
  return within(field.nullable, version) ? fc.option(value, { nil: null, freq: 4 }) : value;
}

export function structArbitrary(fields: readonly FieldSchema[], version: number): fc.Arbitrary<Record<string, unknown>> {
  const present = fields.filter((field) => within(field.versions, version));
  return fc.record(Object.fromEntries(present.map((field) => [field.name, fieldArbitrary(field, version)])));
}

export function messageArbitrary(schema: MessageSchema, version: number): fc.Arbitrary<Record<string, unknown>> {
  return structArbitrary(schema.fields, version);
}
