#!/usr/bin/env node
// Dev tooling (not shipped): generates src/kafka/apis/*.ts from Apache Kafka's public message
// specs (clients/src/main/resources/common/message/*.json), clipped to the version range spool
// serves. Each generated module holds the grammar of its range as a comment, the schema the
// interpreter in src/kafka/codec.ts walks, and the TypeScript types of request and response.
//
//   node scripts/gen-kafka-apis.mjs [/path/to/kafka/bare/repo] [git-rev]
//
// Defaults: /work/.mirror/apache+kafka/repo at HEAD. The output is committed; re-run it only to
// change the served ranges (the API table below) and review the diff.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = process.argv[2] ?? '/work/.mirror/apache+kafka/repo';
const REV = process.argv[3] ?? 'HEAD';
const SPEC_DIR = 'clients/src/main/resources/common/message';
const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../src/kafka/apis');

// The APIs spool serves and their version ranges (issue 9). File name = kebab case of the name.
const APIS = [
  ['Produce', 3, 7],
  ['Fetch', 4, 12],
  ['ListOffsets', 0, 5],
  ['Metadata', 0, 9],
  ['OffsetCommit', 2, 8],
  ['OffsetFetch', 1, 8],
  ['FindCoordinator', 0, 4],
  ['JoinGroup', 0, 6],
  ['Heartbeat', 0, 4],
  ['LeaveGroup', 0, 4],
  ['SyncGroup', 0, 4],
  ['DescribeGroups', 0, 5],
  ['ListGroups', 0, 4],
  ['ApiVersions', 0, 3],
  ['CreateTopics', 0, 7],
  ['DeleteTopics', 0, 6],
  ['DescribeConfigs', 0, 4],
  ['CreatePartitions', 0, 3],
  ['InitProducerId', 0, 4],
  // ACLs and client quotas (src/security/README.md).
  ['DescribeAcls', 0, 3],
  ['CreateAcls', 0, 3],
  ['DeleteAcls', 0, 3],
  ['DescribeClientQuotas', 0, 1],
  ['AlterClientQuotas', 0, 1],
  // Authentication (issue 13). SaslHandshake v0 (raw SASL tokens after it) is decoded only to be refused cleanly.
  ['SaslHandshake', 0, 1],
  ['SaslAuthenticate', 0, 2],
  ['DescribeUserScramCredentials', 0, 0],
  ['AlterUserScramCredentials', 0, 0],
];

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid']);

/** JSON with // comments (outside strings) removed. */
function stripComments(text) {
  let out = '';
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      out += char;
      if (char === '\\') out += text[++index];
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '/' && text[index + 1] === '/') {
      while (index < text.length && text[index] !== '\n') index++;
      out += '\n';
    } else out += char;
  }
  return out;
}

function readSpec(name) {
  const text = execFileSync('git', ['-C', REPO, 'show', `${REV}:${SPEC_DIR}/${name}.json`], { encoding: 'utf8' });
  return JSON.parse(stripComments(text));
}

/** "0+", "3-5", "7", "none" -> [min, max] (max Infinity), or null for none. */
function parseVersions(text) {
  if (text === undefined || text === 'none') return null;
  if (text.endsWith('+')) return [Number(text.slice(0, -1)), Infinity];
  const [min, max] = text.split('-');
  return [Number(min), Number(max ?? min)];
}

function clip(range, min, max) {
  if (range === null) return null;
  const low = Math.max(range[0], min);
  const high = Math.min(range[1], max);
  return low <= high ? [low, high] : null;
}

const camel = (name) => name[0].toLowerCase() + name.slice(1);
const kebab = (name) => name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

function parseDefault(field, type) {
  const text = field.default;
  if (text === undefined) return undefined;
  if (text === 'null') return null;
  if (type === 'bool') return text === 'true';
  if (type === 'string') return text;
  return Number(text);
}

/** A spec field clipped to [min, max] -> our schema field, or null when absent in the range. */
function convertField(field, min, max) {
  const versions = clip(parseVersions(field.versions), min, max);
  if (versions === null) return null;
  const array = field.type.startsWith('[]');
  const elementType = array ? field.type.slice(2) : field.type;
  const isPrimitive = PRIMITIVES.has(elementType);
  if (!isPrimitive && !field.fields) throw new Error(`${field.name}: struct ${elementType} without inline fields (commonStructs not supported)`);
  const out = {
    name: camel(field.name),
    type: isPrimitive ? elementType : 'struct',
    array,
    versions,
    nullable: clip(parseVersions(field.nullableVersions), versions[0], versions[1]),
    tag: null,
    taggedVersions: null,
  };
  if (field.tag !== undefined) {
    out.taggedVersions = clip(parseVersions(field.taggedVersions), versions[0], versions[1]);
    if (out.taggedVersions !== null) out.tag = field.tag;
  }
  const defaultValue = parseDefault(field, elementType);
  if (defaultValue !== undefined && !array) out.default = defaultValue;
  if (!isPrimitive) {
    out.structName = elementType;
    out.fields = field.fields.map((child) => convertField(child, versions[0], versions[1])).filter((child) => child !== null);
  }
  return out;
}

function convertMessage(spec, min, max) {
  const valid = parseVersions(spec.validVersions);
  if (valid[0] > min || valid[1] < max) throw new Error(`${spec.name}: valid ${spec.validVersions} does not cover ${min}-${max}`);
  const flexible = parseVersions(spec.flexibleVersions);
  return {
    name: spec.name,
    type: spec.type,
    apiKey: spec.apiKey,
    minVersion: min,
    maxVersion: max,
    flexibleFrom: flexible === null || flexible[0] > max ? null : Math.max(flexible[0], min),
    fields: spec.fields.map((field) => convertField(field, min, max)).filter((field) => field !== null),
  };
}

// ---- grammar comment

function rangeText(range, min, max) {
  if (range[0] === min && range[1] === max) return '';
  if (range[1] === max) return `v${range[0]}+`;
  if (range[0] === range[1]) return `v${range[0]}`;
  return `v${range[0]}-${range[1]}`;
}

function grammarLines(fields, depth, min, max, lines) {
  for (const field of fields) {
    const element = field.type === 'struct' ? field.structName : field.type;
    let type = field.array ? `[${element}]` : element;
    if (field.nullable) type = `${type}?`;
    const notes = [];
    const versionText = rangeText(field.versions, min, max);
    if (versionText) notes.push(versionText);
    if (field.nullable && (field.nullable[0] !== field.versions[0] || field.nullable[1] !== field.versions[1])) {
      notes.push(`null ${rangeText(field.nullable, min, max) || 'always'}`);
    }
    if (field.tag !== null) notes.push(`tag ${field.tag} ${rangeText(field.taggedVersions, min, max) || ''}`.trim());
    if (field.default !== undefined) notes.push(`default ${JSON.stringify(field.default)}`);
    const left = `${'  '.repeat(depth)}${field.name}: ${type}`;
    lines.push(notes.length ? `${left.padEnd(52)} ${notes.join(', ')}` : left);
    if (field.fields) grammarLines(field.fields, depth + 1, field.versions[0], field.versions[1], lines);
  }
}

function grammar(message) {
  const flexible = message.flexibleFrom === null ? 'none' : `v${message.flexibleFrom}+`;
  const lines = [`${message.name} v${message.minVersion}-${message.maxVersion} (flexible: ${flexible}) =>`];
  grammarLines(message.fields, 1, message.minVersion, message.maxVersion, lines);
  return lines.map((line) => `// ${line}`.trimEnd()).join('\n');
}

// ---- schema literal

function fieldLiteral(field, indent) {
  const parts = [`name: '${field.name}'`, `type: '${field.type}'`, `array: ${field.array}`, `versions: [${field.versions.join(', ')}]`];
  if (field.nullable) parts.push(`nullable: [${field.nullable.join(', ')}]`);
  if (field.tag !== null) parts.push(`tag: ${field.tag}`, `taggedVersions: [${field.taggedVersions.join(', ')}]`);
  if (field.default !== undefined) parts.push(`default: ${JSON.stringify(field.default)}`);
  if (!field.fields) return `${indent}{ ${parts.join(', ')} },`;
  return `${indent}{ ${parts.join(', ')}, fields: [\n${fieldsLiteral(field.fields, indent + '  ')}\n${indent}] },`;
}

const fieldsLiteral = (fields, indent) => fields.map((field) => fieldLiteral(field, indent)).join('\n');

// ---- types

function typesOf(message, names, out) {
  const structType = (fields, typeName, range) => {
    const lines = [`export interface ${typeName} {`];
    for (const field of fields) {
      let type;
      if (field.type === 'struct') {
        let childName = field.structName;
        if (names.has(childName)) childName = `${message.name}${field.structName}`;
        names.add(childName);
        structType(field.fields, childName, field.versions);
        type = childName;
      } else {
        type = { bool: 'boolean', string: 'string', bytes: 'Buffer', records: 'Buffer', uuid: 'Buffer' }[field.type] ?? 'number';
        // A response's records may be several slices, written back to back without a copy.
        if (field.type === 'records' && message.type === 'response') type = '(Buffer | readonly Buffer[])';
      }
      if (field.array) type = `${type}[]`;
      if (field.nullable) type = `${type} | null`;
      // Requests are read by the listener after decoding, which fills every field (with its
      // default when absent at the version): all required. Responses are written by the
      // listener: a field may be left out when some served version lacks it, when it is
      // tagged, or when Kafka gives it a default; the encoder writes the default.
      const optional = message.type === 'response' && (field.versions[0] !== range[0] || field.versions[1] !== range[1] || field.tag !== null || field.default !== undefined);
      lines.push(`  ${field.name}${optional ? '?' : ''}: ${type};`);
    }
    lines.push('}');
    out.push(lines.join('\n'));
  };
  names.add(message.name);
  structType(message.fields, message.name, [message.minVersion, message.maxVersion]);
}

// ---- module

/** Type names of the modules written so far: index.ts re-exports them all, so a later module prefixes a name taken. */
const namesOfEarlierModules = new Set();

function moduleText(apiName, request, response) {
  const names = new Set(namesOfEarlierModules);
  const types = [];
  typesOf(request, names, types);
  typesOf(response, names, types);
  for (const name of names) namesOfEarlierModules.add(name);
  const range = `${request.minVersion}-${request.maxVersion}`;
  return `// ${apiName} (api key ${request.apiKey}), versions ${range}: generated by scripts/gen-kafka-apis.mjs from
// Apache Kafka's ${request.name}.json and ${response.name}.json; do not edit by hand.
//
// Grammar (name: type; [T] = array, ? = nullable; notes give the versions a field exists in
// when not the whole range, and tagged fields with their tag). In the request types every
// field is present (decoding fills absent ones with their default); in the response types a
// field may be left out when some version lacks it, it is tagged or it has a default.
//
${grammar(request)}
//
${grammar(response)}

import type { MessageSchema } from '../schema.js';

export const ${request.name}Schema: MessageSchema = {
  name: '${request.name}', apiKey: ${request.apiKey}, minVersion: ${request.minVersion}, maxVersion: ${request.maxVersion}, flexibleFrom: ${request.flexibleFrom},
  fields: [
${fieldsLiteral(request.fields, '    ')}
  ],
};

export const ${response.name}Schema: MessageSchema = {
  name: '${response.name}', apiKey: ${response.apiKey}, minVersion: ${response.minVersion}, maxVersion: ${response.maxVersion}, flexibleFrom: ${response.flexibleFrom},
  fields: [
${fieldsLiteral(response.fields, '    ')}
  ],
};

${types.join('\n\n')}
`;
}

mkdirSync(OUT, { recursive: true });
const registry = [];
for (const [apiName, min, max] of APIS) {
  const request = convertMessage(readSpec(`${apiName}Request`), min, max);
  const response = convertMessage(readSpec(`${apiName}Response`), min, max);
  writeFileSync(join(OUT, `${kebab(apiName)}.ts`), moduleText(apiName, request, response));
  const kafkaFlexible = parseVersions(readSpec(`${apiName}Request`).flexibleVersions);
  registry.push({ apiName, apiKey: request.apiKey, min, max, kafkaFlexibleFrom: kafkaFlexible === null ? null : kafkaFlexible[0] });
}
registry.sort((a, b) => a.apiKey - b.apiKey);

const index = `// The Kafka APIs spool serves, by api key: generated by scripts/gen-kafka-apis.mjs; do not edit.

import type { MessageSchema } from '../schema.js';
${registry.map((api) => `import { type ${api.apiName}Request, ${api.apiName}RequestSchema, type ${api.apiName}Response, ${api.apiName}ResponseSchema } from './${kebab(api.apiName)}.js';`).join('\n')}

${registry.map((api) => `export * from './${kebab(api.apiName)}.js';`).join('\n')}

export const ApiKeys = {
${registry.map((api) => `  ${api.apiName}: ${api.apiKey},`).join('\n')}
} as const;

export type ApiKey = (typeof ApiKeys)[keyof typeof ApiKeys];

/** Request body type by api key. */
export interface RequestBodies {
${registry.map((api) => `  ${api.apiKey}: ${api.apiName}Request;`).join('\n')}
}

/** Response body type by api key. */
export interface ResponseBodies {
${registry.map((api) => `  ${api.apiKey}: ${api.apiName}Response;`).join('\n')}
}

export interface ApiSchemas {
  readonly name: string;
  readonly apiKey: ApiKey;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Kafka's first flexible version of this API (any version, served or not): header v2 from there. */
  readonly kafkaFlexibleFrom: number | null;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
}

/** Every served API, ordered by api key. */
export const API_SCHEMAS: readonly ApiSchemas[] = [
${registry.map((api) => `  { name: '${api.apiName}', apiKey: ${api.apiKey}, minVersion: ${api.min}, maxVersion: ${api.max}, kafkaFlexibleFrom: ${api.kafkaFlexibleFrom}, request: ${api.apiName}RequestSchema, response: ${api.apiName}ResponseSchema },`).join('\n')}
];
`;
writeFileSync(join(OUT, 'index.ts'), index);
console.log(`wrote ${registry.length} API modules and index.ts to ${OUT}`);
