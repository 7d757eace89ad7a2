// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2: MurmurHash2, seed
// 0x9747b28c, little-endian 4-byte blocks), so a key lands on the same partition as
// with the Java client, librdkafka's murmur2 partitioner and kafkajs's default one.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** The signed 32-bit murmur2 hash of `data`, exactly as Kafka's Utils.murmur2 returns it. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let hash = (SEED ^ length) | 0;
  const blockEnd = length & ~3;
  for (let index = 0; index < blockEnd; index += 4) {
    let k = data[index]! | (data[index + 1]! << 8) | (data[index + 2]! << 16) | (data[index + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    hash = Math.imul(hash, M) ^ k;
  }
  // The tail (1 to 3 bytes), as Java's fall-through switch does it.
  const tail = length & 3;
  if (tail >= 3) hash ^= data[blockEnd + 2]! << 16;
  if (tail >= 2) hash ^= data[blockEnd + 1]! << 8;
  if (tail >= 1) {
    hash ^= data[blockEnd]!;
    hash = Math.imul(hash, M);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, M);
  hash ^= hash >>> 15;
  return hash | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which differs for negatives). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}
