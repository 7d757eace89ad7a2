// Best-effort reading of Kafka's embedded consumer protocol, so describe can show what a
// classic group of protocol type `consumer` subscribes to and who owns which partition.
// The coordinator never depends on these bytes (they are opaque to it, as in Kafka);
// anything that does not parse is shown as nothing. Non-flexible encoding, big-endian:
//
//   ConsumerProtocolSubscription => version:int16 topics:[topic:string] user_data:bytes
//                                   (v1+ owned_partitions, v2+ generation_id, v3+ rack_id: not read)
//   ConsumerProtocolAssignment   => version:int16 assigned_partitions:[topic:string [partition:int32]]
//                                   user_data:bytes
//   string => length:int16 utf8;  [x] => count:int32 x*count

import type { TopicPartitions } from './types.js';

/** A cursor that throws RangeError past the end (caught by the callers below). */
class Reader {
  private offsetBytes = 0;
  constructor(private readonly bytes: Buffer) {}
  int16(): number {
    const value = this.bytes.readInt16BE(this.offsetBytes);
    this.offsetBytes += 2;
    return value;
  }
  int32(): number {
    const value = this.bytes.readInt32BE(this.offsetBytes);
    this.offsetBytes += 4;
    return value;
  }
  string(): string {
    const length = this.int16();
    if (length < 0 || this.offsetBytes + length > this.bytes.length) throw new RangeError('bad string');
    const value = this.bytes.toString('utf8', this.offsetBytes, this.offsetBytes + length);
    this.offsetBytes += length;
    return value;
  }
  /** An array count, checked against the bytes left (each element takes at least `minBytes`). */
  count(minBytes: number): number {
    const count = this.int32();
    if (count < 0 || count * minBytes > this.bytes.length - this.offsetBytes) throw new RangeError('bad count');
    return count;
  }
}

export function decodeConsumerSubscription(bytes: Buffer): string[] | undefined {
  try {
    const reader = new Reader(bytes);
    reader.int16();
    const topics: string[] = [];
    for (let remaining = reader.count(2); remaining > 0; remaining--) topics.push(reader.string());
    return topics;
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

export function decodeConsumerAssignment(bytes: Buffer): TopicPartitions[] | undefined {
  if (bytes.length === 0) return [];
  try {
    const reader = new Reader(bytes);
    reader.int16();
    const assignment: TopicPartitions[] = [];
    for (let topics = reader.count(6); topics > 0; topics--) {
      const topic = reader.string();
      const partitions: number[] = [];
      for (let count = reader.count(4); count > 0; count--) partitions.push(reader.int32());
      assignment.push({ topic, partitions });
    }
    return assignment;
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}
