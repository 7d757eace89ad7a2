// Proves the connection's wire behaviour against an in-process TCP server that speaks the
// frame codec and answers as each test scripts it: many requests in flight matched by
// correlation id, an acks-0 style request never registered as pending, multi-buffer
// frames arriving intact, request timeouts (late answers dropped, connection kept),
// failure of pending requests when the socket closes and a reconnect on the next
// request, requests made during the handshake kept behind the ones waiting for the connect,
// connect errors as BROKER_NOT_AVAILABLE, and close() leaving nothing open.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/client/connection.js';
import { ApiKey, RequestFrameDecoder, decodeBody, encodeResponseFrame, type RequestFrame } from '../../src/protocol/index.js';

interface Received {
  frame: RequestFrame;
  header: Record<string, unknown>;
  payload: Buffer;
  socket: Socket;
}

class ScriptedServer {
  readonly received: Received[] = [];
  readonly sockets = new Set<Socket>();
  connections = 0;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(onRequest?: (request: Received, server: ScriptedServer) => void): Promise<ScriptedServer> {
    let scripted!: ScriptedServer;
    const server = createServer((socket) => {
      scripted.connections++;
      scripted.sockets.add(socket);
      socket.on('close', () => scripted.sockets.delete(socket));
      socket.on('error', () => undefined); // the client may reset it; the test checks the client side
      const decoder = new RequestFrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          const { header, payload } = decodeBody(frame.body);
          const request = { frame, header, payload: Buffer.from(payload), socket };
          scripted.received.push(request);
          onRequest?.(request, scripted);
          for (const wake of scripted.waiters.splice(0)) wake();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scripted = new ScriptedServer(server, (server.address() as { port: number }).port);
    return scripted;
  }

  answer(request: Received, header: Record<string, unknown>, payload?: Buffer): void {
    for (const part of encodeResponseFrame(request.frame.correlationId, header, payload)) request.socket.write(part);
  }

  async waitForRequests(count: number): Promise<void> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const entry of open.splice(0).reverse()) await entry.close();
});

function connect(port: number, options: { requestTimeoutMs?: number; handshake?: boolean } = {}): Connection {
  const connection = new Connection({
    host: '127.0.0.1',
    port,
    clientId: 'test',
    connectTimeoutMs: 2000,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    handshake: options.handshake ?? false,
  });
  open.push(connection);
  return connection;
}

describe('Connection', () => {
  it('pipelines many requests and matches answers by correlation id', async () => {
    const server = await ScriptedServer.start();
    open.push(server);
    const connection = connect(server.port);
    const replies = Array.from({ length: 50 }, (_, index) => connection.request(ApiKey.Metadata, { topics: [`t${index}`] }));
    await server.waitForRequests(50);
    expect(connection.inFlight).toBe(50);
    expect(server.connections).toBe(1);
    // Answer in request order (as the broker does), each echoing its topic.
    for (const request of server.received) server.answer(request, { errorCode: 0, echo: (request.header['topics'] as string[])[0] });
    const answers = await Promise.all(replies);
    expect(answers.map((answer) => answer.header['echo'])).toEqual(Array.from({ length: 50 }, (_, index) => `t${index}`));
    expect(connection.inFlight).toBe(0);
  });

  it('sends multi-buffer payloads intact and does not register a no-response request', async () => {
    const server = await ScriptedServer.start();
    open.push(server);
    const connection = connect(server.port);
    const parts = [Buffer.alloc(3, 1), Buffer.alloc(1 << 20, 2), Buffer.alloc(5, 3)];
    await connection.request(ApiKey.Produce, { acks: 0, partitions: [] }, parts, { expectResponse: false });
    expect(connection.inFlight).toBe(0);
    await server.waitForRequests(1);
    expect(server.received[0]!.payload.equals(Buffer.concat(parts))).toBe(true);
    // The next request with an answer still matches its own correlation id.
    const next = connection.request(ApiKey.Metadata, {});
    await server.waitForRequests(2);
    server.answer(server.received[1]!, { errorCode: 0, ok: true });
    expect((await next).header['ok']).toBe(true);
  });

  it('a top-level error in the answer rejects with that SpoolError', async () => {
    const server = await ScriptedServer.start((request, scripted) => scripted.answer(request, { errorCode: 13, errorMessage: 'no such version' }));
    open.push(server);
    const connection = connect(server.port);
    await expect(connection.request(ApiKey.Metadata, {})).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION', message: 'no such version' });
  });

  it('times out a request, drops its late answer, and keeps serving the connection', async () => {
    const server = await ScriptedServer.start();
    open.push(server);
    const connection = connect(server.port, { requestTimeoutMs: 100 });
    const slow = connection.request(ApiKey.Metadata, { which: 'slow' });
    await expect(slow).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT', retriable: true });
    const fast = connection.request(ApiKey.Metadata, { which: 'fast' });
    await server.waitForRequests(2);
    server.answer(server.received[0]!, { errorCode: 0, which: 'slow' }); // late
    server.answer(server.received[1]!, { errorCode: 0, which: 'fast' });
    expect((await fast).header['which']).toBe('fast');
    expect(server.connections).toBe(1);
  });

  it('fails pending requests when the socket closes and reconnects on the next request', async () => {
    const server = await ScriptedServer.start();
    open.push(server);
    const connection = connect(server.port);
    const pending = connection.request(ApiKey.Metadata, {});
    await server.waitForRequests(1);
    server.received[0]!.socket.destroy();
    await expect(pending).rejects.toMatchObject({ code: 'NETWORK_ERROR', retriable: true });
    const again = connection.request(ApiKey.Metadata, {});
    await server.waitForRequests(2);
    server.answer(server.received[1]!, { errorCode: 0 });
    await again;
    expect(server.connections).toBe(2);
  });

  it('checks the broker versions with an ApiVersions handshake', async () => {
    const server = await ScriptedServer.start((request, scripted) => {
      if (request.frame.apiKey === ApiKey.ApiVersions) {
        scripted.answer(request, { errorCode: 0, brokerVersion: 'x', apis: [{ apiKey: ApiKey.Metadata, minVersion: 3, maxVersion: 4 }] });
      }
    });
    open.push(server);
    const connection = connect(server.port, { handshake: true });
    await expect(connection.request(ApiKey.Metadata, {})).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });

  it('a request made during the handshake waits behind the requests that started the connect', async () => {
    let connection!: Connection;
    let late: Promise<unknown> | null = null;
    const server = await ScriptedServer.start((request, scripted) => {
      if (request.frame.apiKey !== ApiKey.ApiVersions) {
        scripted.answer(request, { errorCode: 0 });
        return;
      }
      // The handshake is on the wire (the socket is up): a new request now must not go first.
      late = connection.request(ApiKey.Metadata, { topics: ['late'] });
      setTimeout(() => scripted.answer(request, { errorCode: 0, brokerVersion: 'x', apis: [] }), 20);
    });
    open.push(server);
    connection = connect(server.port, { handshake: true });
    const early = [connection.request(ApiKey.Metadata, { topics: ['first'] }), connection.request(ApiKey.Metadata, { topics: ['second'] })];
    await Promise.all(early);
    await late;
    const order = server.received.filter((request) => request.frame.apiKey === ApiKey.Metadata).map((request) => (request.header['topics'] as string[])[0]);
    expect(order).toEqual(['first', 'second', 'late']);
  });

  it('reports a refused connection as BROKER_NOT_AVAILABLE naming the address', async () => {
    const server = await ScriptedServer.start();
    const port = server.port;
    await server.close();
    const connection = connect(port);
    await expect(connection.request(ApiKey.Metadata, {})).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE', message: expect.stringContaining(`127.0.0.1:${port}`) });
  });

  it('close() fails what is pending and closes the socket', async () => {
    const server = await ScriptedServer.start();
    open.push(server);
    const connection = connect(server.port);
    const pending = connection.request(ApiKey.Fetch, { maxWaitMs: 10_000 });
    await server.waitForRequests(1);
    const failed = expect(pending).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await connection.close();
    await failed;
    expect(connection.isConnected).toBe(false);
    await expect(connection.request(ApiKey.Metadata, {})).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.sockets.size).toBe(0);
  });
});
