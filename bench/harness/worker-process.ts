// The child side of the benchmark's worker processes (child_process.fork): one place for the
// message protocol every worker speaks with its parent, so each worker file holds only its
// work. The parent sends { type: 'start', config }, then 'go' (and, for members, 'stop'); the
// worker answers with its own messages and { type: 'failed', error } when its work throws.
// A worker whose parent goes away (Ctrl-C, a crash) exits instead of working for nobody.

export interface WorkerFailed {
  type: 'failed';
  error: string;
}

function failed(error: unknown): WorkerFailed {
  return { type: 'failed', error: error instanceof Error ? error.message : String(error) };
}

function sender<M>(): (message: M | WorkerFailed) => void {
  return (message) => void process.send?.(message);
}

/**
 * A worker that runs once: 'start' runs `run` with its config, 'go' settles the promise `run`
 * waits on before its timed part; the worker disconnects when `run` settles (after 'failed'
 * when it throws).
 */
export function serveRunWorker<C, M>(run: (config: C, send: (message: M) => void, go: Promise<void>) => Promise<void>): void {
  const send = sender<M>();
  let release: () => void = () => undefined;
  const go = new Promise<void>((resolve) => (release = resolve));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { type: string; config?: C }) => {
    if (message.type === 'go') release();
    else if (message.type === 'start' && message.config) {
      run(message.config, send, go).then(
        () => process.disconnect(),
        (error: unknown) => {
          send(failed(error));
          process.disconnect();
        },
      );
    }
  });
}

/** What a long-lived worker (a group member) gives back once started. */
export interface MemberHandle {
  go(): void;
  stop(): Promise<void>;
}

/**
 * A worker that starts and then waits: 'start' runs `start` (exiting with status 1 when it
 * throws), 'go' and 'stop' call the handle it gave back; the process exits after 'stop'.
 */
export function serveMemberWorker<C, M>(start: (config: C, send: (message: M) => void) => Promise<MemberHandle>): void {
  const send = sender<M>();
  let handle: Promise<MemberHandle> | undefined;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { type: string; config?: C }) => {
    if (message.type === 'start' && message.config) {
      handle = start(message.config, send);
      handle.catch((error: unknown) => {
        send(failed(error));
        process.exit(1);
      });
    } else if (message.type === 'go') void handle?.then((member) => member.go());
    else if (message.type === 'stop') {
      void (handle ?? Promise.reject(new Error('not started')))
        .then((member) => member.stop())
        .finally(() => process.exit(0));
    }
  });
}
