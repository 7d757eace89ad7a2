// Dev tooling (not shipped): records the request frames a real Kafka client sends, as golden
// fixtures for test/kafka. Runs the codec-only stub broker of test/helpers/kafka-stub.ts
// (127.0.0.1, port 0), which answers just enough for the client to go on, and writes each
// first-seen (api, version) frame to test/fixtures/kafka/<prefix>-<Api>-v<version>.hex.
//
//   npx tsx scripts/capture-kafka-requests.ts <prefix> -- <client command with {port}>
//   e.g. npx tsx scripts/capture-kafka-requests.ts kcat-list -- kcat -b 127.0.0.1:{port} -L
//   stdin for the client: CAPTURE_STDIN='k1:hello\nk2:world'. The client is stopped after
//   15 s, or 200 ms after its first Fetch.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { API_SCHEMAS, ApiKeys } from '../src/kafka/index.js';
import { startKafkaStub } from '../test/helpers/kafka-stub.js';

const [prefix, separator, ...command] = process.argv.slice(2);
if (!prefix || separator !== '--' || command.length === 0) throw new Error('usage: capture-kafka-requests.ts <prefix> -- <command with {port}>');
const seen = new Set<string>();
let stop = (): void => undefined;

const stub = await startKafkaStub({
  topic: 'golden',
  onRequest: (frame, request) => {
    const name = `${prefix}-${API_SCHEMAS.find((api) => api.apiKey === request.apiKey)!.name}-v${request.apiVersion}`;
    if (!seen.has(name)) {
      seen.add(name);
      writeFileSync(new URL(`../test/fixtures/kafka/${name}.hex`, import.meta.url), frame.toString('hex') + '\n');
      console.error(`captured ${name} (${frame.length} bytes)`);
    }
    if (request.apiKey === ApiKeys.Fetch) setTimeout(stop, 200);
  },
});
const child = spawn(command[0]!, command.slice(1).map((arg) => arg.replaceAll('{port}', String(stub.port))), { stdio: ['pipe', 'inherit', 'inherit'] });
stop = () => child.kill('SIGINT');
child.stdin.end(process.env['CAPTURE_STDIN'] ?? '');
const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
child.on('exit', () => {
  clearTimeout(timer);
  void stub.close().then(() => process.exit(0));
});
