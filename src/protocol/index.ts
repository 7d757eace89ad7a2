// The native wire protocol: frame codec, body codec, API numbers, message types,
// request shape checks and error fields. Pure: no sockets, no files. See README.md.

export * from './apis.js';
export type * from './messages.js';
export * from './frame.js';
export * from './body.js';
export * from './errors.js';
export * from './validate.js';
