// Proves that a Client pointed at an HTTP server (the broker's admin HTTP port given by
// mistake) fails at once, without retries, with NOT_A_SPOOL_BROKER and a message that says
// "did you mean the HTTP port?" instead of "frame of 1213486160 bytes" ("HTTP" read as a
// frame size). A local HTTP server on 127.0.0.1 port 0 plays the part.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';

let server: Server;
let requests = 0;
let address = '';

beforeAll(async () => {
  server = createServer((_request, response) => {
    requests++;
    response.writeHead(400).end('bad request');
  });
  // Node's HTTP server answers a malformed request (spool's binary frame) with 400 itself.
  server.on('clientError', (_error, socket) => {
    requests++;
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no port');
  address = `127.0.0.1:${bound.port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('an HTTP port is NOT_A_SPOOL_BROKER at once, not retried', async () => {
  const client = new Client({ brokers: [address], retry: { retries: 5, initialRetryTimeMs: 200 } });
  const started = Date.now();
  try {
    await expect(client.admin().listTopics()).rejects.toMatchObject({
      code: 'NOT_A_SPOOL_BROKER',
      message: expect.stringMatching(/not a spool broker.*did you mean the HTTP port\?/),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(requests).toBe(1);
  } finally {
    await client.close();
  }
});
