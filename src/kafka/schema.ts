// The shape of a Kafka message as the codec walks it: a tree of fields, each present in a
// version range, written by scripts/gen-kafka-apis.mjs from Kafka's message JSON (see
// README.md, "Flexible encoding"). Version ranges are inclusive and clipped to what spool serves.

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type VersionRange = readonly [min: number, max: number];

export interface FieldSchema {
  /** camelCase of the Kafka field name: the property name in the typed objects. */
  readonly name: string;
  readonly type: PrimitiveType | 'struct';
  /** An array of `type` (compact array in flexible versions). */
  readonly array: boolean;
  readonly versions: VersionRange;
  readonly nullable?: VersionRange;
  /** Tagged fields (flexible versions only) travel in the tagged section under this tag. */
  readonly tag?: number;
  readonly taggedVersions?: VersionRange;
  /** Kafka's "default" for the field; absent means the type's zero (0, false, "", [], ...). */
  readonly default?: number | string | boolean | null;
  readonly fields?: readonly FieldSchema[];
}

export interface MessageSchema {
  readonly name: string;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version inside [minVersion, maxVersion], or null when none is. */
  readonly flexibleFrom: number | null;
  readonly fields: readonly FieldSchema[];
}

export const inRange = (range: VersionRange | undefined, version: number): boolean =>
  range !== undefined && version >= range[0] && version <= range[1];
