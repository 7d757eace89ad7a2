// Prints the "Examples" section of src/protocol/README.md from the golden frames:
//   npx tsx test/protocol/print-examples.ts
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Fixture { name: string; kind: string; header: unknown; payloadHex: string; hex: string }
const file = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/protocol/frames.json');
const fixtures = JSON.parse(readFileSync(file, 'utf8')) as Fixture[];

function wrap(hex: string): string {
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64).replace(/(..)/g, '$1 ').trim());
  return lines.join('\n');
}

/** msgpack bin fields (stored as JSON's form of a Buffer) shown as bin("text") or bin(hex). */
function binAsText(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || (value as { type?: unknown }).type !== 'Buffer') return value;
  const bytes = Buffer.from((value as { data: number[] }).data);
  return /^[\x20-\x7e]*$/.test(bytes.toString('latin1')) ? `bin("${bytes.toString('latin1')}")` : `bin(${bytes.toString('hex')})`;
}

for (const fixture of fixtures) {
  const fixed = fixture.kind === 'request' ? 24 : 16;
  const hex = fixture.hex;
  console.log(`### ${fixture.name}\n`);
  console.log('```');
  console.log(`header:  ${JSON.stringify(fixture.header, binAsText)}`);
  if (fixture.payloadHex) console.log(`payload: ${fixture.payloadHex} (stand-in for record batches)`);
  console.log(`frame:   ${hex.slice(0, fixed).replace(/(..)/g, '$1 ').trim()}  (${fixture.kind === 'request' ? 'size correlationId apiKey apiVersion' : 'size correlationId'})`);
  console.log(`body:    headerLength ${hex.slice(fixed, fixed + 8).replace(/(..)/g, '$1 ').trim()}, then msgpack${fixture.payloadHex ? ' and payload' : ''}:`);
  console.log(wrap(hex.slice(fixed + 8)));
  console.log('```\n');
}
