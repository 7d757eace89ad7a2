// Shared helpers for the records tests: fixture loading and error matching.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isSpoolError } from '../../src/util/errors.js';

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'records');

/** Reads an annotated hex fixture: '#' starts a comment, whitespace is ignored. */
export function readHexFixture(name: string): Buffer {
  const text = readFileSync(join(fixtureDir, name), 'utf8');
  const hex = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(hex, 'hex');
}

/** Asserts that `fn` throws a SpoolError with the given code name. */
export function expectSpoolError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a SpoolError to be thrown').toBeDefined();
  expect(isSpoolError(thrown), `expected a SpoolError, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}
