// The Kafka front's frame source, one per connection: splits the byte stream into
// `size:int32` frames (protocol's FrameDecoder: size cap, growth, pooled assembly) and
// parses each frame's request header as it arrives.
//
// It also knows the connection's framing mode. After a SaslHandshake v0 that succeeded,
// Kafka's legacy ("KIP-43 v0") exchange sends the SASL tokens raw: `size:int32 token`, no
// request header (README.md beside this file, "Raw SASL tokens"). The handshake's dispatch
// calls expectSaslTokens(); the token that ends the exchange with success calls
// expectRequests(). While tokens are expected the decoder accepts frames of 0..
// MAX_SASL_TOKEN_BYTES (checked on the size field, before anything is allocated) instead
// of a request header..maxRequestBytes. Frames are split eagerly (a chunk may hold several),
// so whether a frame is a token is decided when it is dispatched, in order (isSaslToken):
// a frame split before the mode changed is judged by the mode at its dispatch, and a token
// larger than the limit that slipped in that way is refused there (sasl-tokens.ts).

import { decodeRequestHeader, KafkaDecodeError, type RequestHeader } from '../../kafka/index.js';
import { Errors, isSpoolError, SpoolError } from '../../util/errors.js';
import { ScramLimits } from '../../util/scram.js';
import { LengthPrefixedFrameSource } from '../front.js';

/** apiKey:int16 apiVersion:int16 correlationId:int32 clientIdLength:int16. */
export const MIN_HEADER_BYTES = 10;

/**
 * Largest raw SASL token read after a SaslHandshake v0: the largest SASL message the
 * authenticator takes (SCRAM and PLAIN alike, ScramLimits.maxMessageBytes), so a larger size
 * field is refused before its bytes are read or allocated. (Kafka's equivalent is
 * sasl.server.max.receive.size, 512 KiB; spool's messages are capped lower anyway.)
 */
export const MAX_SASL_TOKEN_BYTES = ScramLimits.maxMessageBytes;

/** A frame after its size field, with its header when it has a readable one. */
export interface KafkaFrame {
  readonly raw: Buffer;
  /** Parsed as the frame arrives; meaningless (and ignored) when the frame is a raw SASL token. */
  readonly header: RequestHeader | null;
  /** The connection's frame source (its framing mode). */
  readonly source: KafkaFrameSource;
  /** Set on the frame's first look at dispatch time: a raw SASL token, or a Kafka request. */
  saslToken?: boolean;
}

function readHeader(raw: Buffer): RequestHeader | null {
  try {
    return decodeRequestHeader(raw);
  } catch (error) {
    if (error instanceof KafkaDecodeError) return null;
    throw error;
  }
}

export class KafkaFrameSource extends LengthPrefixedFrameSource<KafkaFrame> {
  private tokens = false;

  constructor(private readonly maxRequestBytes: number) {
    // Each frame names this source (its framing mode), so `parse` is bound after construction.
    super(maxRequestBytes, MIN_HEADER_BYTES, (raw) => ({ raw, header: readHeader(raw), source: this.self() }), (frame) => frame.raw);
  }

  private self(): KafkaFrameSource {
    return this;
  }

  /** True between a successful SaslHandshake v0 and the end of its exchange. */
  get rawSaslTokens(): boolean {
    return this.tokens;
  }

  /** A SaslHandshake v0 succeeded: the frames that follow are raw SASL tokens. */
  expectSaslTokens(): void {
    this.tokens = true;
    this.decoder.setLimits(0, Math.min(MAX_SASL_TOKEN_BYTES, this.maxRequestBytes));
  }

  /** The raw exchange succeeded: Kafka requests follow again. */
  expectRequests(): void {
    this.tokens = false;
    this.decoder.setLimits(MIN_HEADER_BYTES, this.maxRequestBytes);
  }

  override push(chunk: Buffer): KafkaFrame[] {
    try {
      return super.push(chunk);
    } catch (error) {
      // Name what was refused: the connection closes with this message in its log line.
      if (this.tokens && isSpoolError(error)) throw new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, `raw SASL token after SaslHandshake v0: ${error.message}`, { cause: error });
      throw error;
    }
  }
}

/** Whether `frame` is a raw SASL token: decided once, by the connection's mode when it is first looked at at dispatch. */
export function isSaslToken(frame: KafkaFrame): boolean {
  frame.saslToken ??= frame.source.rawSaslTokens;
  return frame.saslToken;
}
