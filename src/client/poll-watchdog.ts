// maxPollIntervalMs for group members (Kafka's max.poll.interval.ms): a member whose reader
// holds one message (or handler call) for longer than this, or stops reading, leaves the
// group so its partitions move to a member that reads; it rejoins when the reader comes back.
// Without it, a stuck handler held its partitions forever while heartbeats kept the session
// alive. The hot path only bumps a counter per message (no clock read, no timer per message):
// one timer checks every quarter interval, and the member leaves after four checks in a row
// found the reader stalled with the counter unchanged, i.e. between 1 and 1.25 intervals.

const CHECKS_PER_INTERVAL = 4;

export class PollWatchdog {
  /** Bumped by the consumer for every message handed to the reader. */
  polls = 0;
  private polledAtCheck = -1;
  private stalledChecks = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly maxPollIntervalMs: number,
    /** True while the reader holds a message or is not reading at all. */
    private readonly stalled: () => boolean,
    private readonly onExpired: () => void,
  ) {}

  start(): void {
    if (this.timer !== null || !(this.maxPollIntervalMs > 0) || !Number.isFinite(this.maxPollIntervalMs)) return;
    this.stalledChecks = 0;
    this.polledAtCheck = this.polls;
    this.timer = setInterval(() => this.check(), Math.max(1, Math.floor(this.maxPollIntervalMs / CHECKS_PER_INTERVAL)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const stalled = this.polls === this.polledAtCheck && this.stalled();
    this.polledAtCheck = this.polls;
    this.stalledChecks = stalled ? this.stalledChecks + 1 : 0;
    if (this.stalledChecks < CHECKS_PER_INTERVAL) return;
    this.stop();
    this.onExpired();
  }
}
