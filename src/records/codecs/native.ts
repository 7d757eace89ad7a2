// The two native codec packages, loaded on first use rather than at import: every layer
// (and the SDK) imports records, and a platform without a prebuilt binary must still run
// everything but that codec. A load failure is UNSUPPORTED_COMPRESSION naming the package.

import { createRequire } from 'node:module';
import { Errors, SpoolError } from '../../util/errors.js';

export interface SnappyPackage {
  compressSync(input: Buffer): Buffer;
  uncompressSync(input: Buffer, options: { asBuffer: true }): Buffer | string;
}

export interface Lz4Package {
  compressFrameSync(input: Buffer): Buffer;
}

const require = createRequire(import.meta.url);
let snappy: SnappyPackage | undefined;
let lz4: Lz4Package | undefined;

export function snappyPackage(): SnappyPackage {
  snappy ??= load<SnappyPackage>('snappy', 'snappy');
  return snappy;
}

export function lz4Package(): Lz4Package {
  lz4 ??= load<Lz4Package>('lz4-napi', 'lz4');
  return lz4;
}

function load<T>(name: string, codec: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    throw new SpoolError(Errors.UNSUPPORTED_COMPRESSION, `${codec} needs the npm package '${name}', which did not load on this platform: ${(error as Error).message}`, { cause: error });
  }
}
