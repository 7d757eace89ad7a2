// The one error the Kafka decoders throw: any byte string either decodes or throws this.
// It is an INVALID_REQUEST SpoolError (the listener answers or closes as Kafka does) that
// also says where in the frame the bytes stopped making sense.

import { type ErrorKind, Errors, SpoolError } from '../util/errors.js';

export class KafkaDecodeError extends SpoolError {
  /** Byte position in the decoded buffer where the problem was found. */
  readonly position: number;

  constructor(message: string, position: number, kind: ErrorKind = Errors.INVALID_REQUEST) {
    super(kind, `${message} at byte ${position}`);
    this.name = 'KafkaDecodeError';
    this.position = position;
  }
}
