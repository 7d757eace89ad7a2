// How a broker paces its logins (SASL) to one peer, shared by every PeerConnection of the
// broker (peer-connection.ts). Why: each failed login counts against the peer's per-host
// lockout (--sasl-max-failures-per-host, 10 within 60 s, then every connection from this
// broker's host is refused for a minute: clients on the same host too), and a follower
// runs one connection per followed partition, each retrying every 100 ms. So:
//
// - after a failed login to a peer, no connection tries that peer again before the backoff
//   has passed (1 s, doubling up to 30 s; reset by a success): until then login() rejects at
//   once with the last failure, without connecting;
// - when no login to the peer has succeeded yet (at start, after a failure), one connection
//   tries while the others wait for its outcome, so a hundred fetchers starting together
//   cost the peer one failure, not a hundred. With one follower per host, a wrong password
//   costs a peer 6 failures in the first minute (t = 0, 1, 3, 7, 15, 31 s), then 2 a minute:
//   under the default lockout;
// - once a login succeeded, connections log in in parallel.
//
// Only login failures (SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM,
// ILLEGAL_SASL_STATE) back off here; a network failure is the caller's to retry. One entry
// per peer address: as many as the cluster has brokers.

import { performance } from 'node:perf_hooks';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';

export const PEER_LOGIN_BACKOFF_INITIAL_MS = 1_000;
export const PEER_LOGIN_BACKOFF_MAX_MS = 30_000;

interface PeerLoginState {
  /** A login succeeded and none failed since: connections log in in parallel. */
  verified: boolean;
  failures: number;
  retryAtMs: number;
  lastFailure: SpoolError | null;
  /** The one login in progress while not verified; the others wait for it. */
  probe: Promise<void> | null;
}

export function isLoginFailure(error: unknown): error is SpoolError {
  return isSpoolError(error, Errors.SASL_AUTHENTICATION_FAILED) || isSpoolError(error, Errors.UNSUPPORTED_SASL_MECHANISM) || isSpoolError(error, Errors.ILLEGAL_SASL_STATE);
}

export class PeerLoginBackoff {
  private readonly peers = new Map<string, PeerLoginState>();

  constructor(
    private readonly nowMs: () => number = () => performance.now(),
    readonly initialMs: number = PEER_LOGIN_BACKOFF_INITIAL_MS,
    readonly maxMs: number = PEER_LOGIN_BACKOFF_MAX_MS,
  ) {}

  /** Runs `attempt` (one login to `peer`, host:port) when the pacing above allows; rejects with the last failure while backing off. */
  async login(peer: string, attempt: () => Promise<void>): Promise<void> {
    for (;;) {
      let state = this.peers.get(peer);
      if (state === undefined) {
        state = { verified: false, failures: 0, retryAtMs: 0, lastFailure: null, probe: null };
        this.peers.set(peer, state);
      }
      if (state.verified) return this.run(state, attempt);
      if (state.probe !== null) {
        await state.probe;
        continue;
      }
      if (state.lastFailure !== null && this.nowMs() < state.retryAtMs) {
        // The same message each time: the replica fetcher logs a failure once, not per retry.
        throw new SpoolError(state.lastFailure.kind, state.lastFailure.message);
      }
      const probe = this.run(state, attempt);
      const settled = state;
      const clear = (): void => {
        settled.probe = null;
      };
      state.probe = probe.then(clear, clear);
      return probe;
    }
  }

  private async run(state: PeerLoginState, attempt: () => Promise<void>): Promise<void> {
    try {
      await attempt();
    } catch (error) {
      if (isLoginFailure(error)) {
        state.verified = false;
        state.failures++;
        state.retryAtMs = this.nowMs() + Math.min(this.maxMs, this.initialMs * 2 ** Math.min(state.failures - 1, 30));
        state.lastFailure = error;
      }
      throw error;
    }
    state.verified = true;
    state.failures = 0;
    state.lastFailure = null;
  }
}
