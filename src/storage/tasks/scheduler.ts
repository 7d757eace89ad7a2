// Runs storage's periodic work as named background tasks (Kafka's scheduler). Each task
// runs on its own unref'd timer, never overlapping itself; a failure is reported through
// `warn` with the task's name and the task keeps its schedule (a disk failure has
// already put the partition concerned offline, which is where it is reported to callers).

export interface BackgroundTask {
  readonly name: string;
  readonly intervalMs: number;
  run(): void | Promise<void>;
}

export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly warn: (message: string) => void) {}

  schedule(task: BackgroundTask): void {
    if (this.stopped) return;
    const timer = setInterval(() => void this.runNow(task), task.intervalMs);
    timer.unref();
    this.timers.set(task.name, timer);
  }

  /** Runs a task once now (tests, and the timer); resolves when it finished. */
  runNow(task: BackgroundTask): Promise<void> {
    const current = this.running.get(task.name);
    if (current) return current;
    const run = (async () => {
      try {
        await task.run();
      } catch (error) {
        this.warn(`background task ${task.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        this.running.delete(task.name);
      }
    })();
    this.running.set(task.name, run);
    return run;
  }

  /** Stops the timers and waits for running tasks. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
  }
}
