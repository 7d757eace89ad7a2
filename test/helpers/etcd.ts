// A real etcd for tests: Debian's etcd-server (/usr/bin/etcd, 3.4), one member on 127.0.0.1
// with two ports picked free by binding port 0 first, and a temp data dir. stop() and kill()
// end it; restart() starts it again on the same ports and data (revisions and leases survive,
// as after a real etcd restart). The test setup (.ci/run) installs etcd-server.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BINARY = process.env['SPOOL_ETCD_BINARY'] ?? '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BINARY);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestEtcd {
  readonly endpoint: string;
  /** `etcd://127.0.0.1:<port>` */
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same ports; `wipe` starts from an empty data dir (a new etcd: leases and keys gone). */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** Stop and remove the data dir. */
  destroy(): Promise<void>;
}

export async function startEtcd(): Promise<TestEtcd> {
  if (!etcdAvailable()) throw new Error(`${ETCD_BINARY} not found: install Debian's etcd-server (.ci/run does)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    child = spawn(ETCD_BINARY, [
      '--name', 'test',
      '--data-dir', join(dataDir, 'member-data'),
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `test=${peerUrl}`,
      // Short raft timers: a one-member cluster elects itself within ~100 ms.
      '--heartbeat-interval', '50',
      '--election-timeout', '250',
      '--log-level', 'warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${output.slice(-2000)}`);
      try {
        const response = await fetch(`${clientUrl}/health`);
        const body = (await response.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // Not listening yet: poll again.
      }
      if (Date.now() - started > 15_000) throw new Error(`etcd did not become healthy: ${output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    url: `etcd://127.0.0.1:${clientPort}`,
    dataDir,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: async (options = {}) => {
      await end('SIGTERM');
      if (options.wipe === true) rmSync(join(dataDir, 'member-data'), { recursive: true, force: true });
      await launch();
    },
    destroy: async () => {
      await end('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
