// `spool serve` settings from four places, in this precedence: a flag on the command line,
// then a SPOOL_* environment variable, then the JSON file named by --config, then the
// flag's default. Every serve flag is a key, named by its camelCase attribute
// (`--data-dir` -> "dataDir", env SPOOL_DATA_DIR), so a flag added later (the Kafka
// listener's) is a key and a variable with no change here. Values go through the flag's
// own parser, so a file or a variable is checked exactly as the flag is.
//
//   spool.json: {"dataDir": "/var/lib/spool", "port": 9400, "fsync": "always", "autoCreateTopics": true}
//
// An unknown key in the file is an error naming the key (a typo must not silently run a
// default). SPOOL_* variables that are not serve keys are left alone: SPOOL_BROKER and
// SPOOL_DEBUG belong to other commands. `--print-config` prints the effective settings as
// a JSON file --config accepts, and serve exits without starting.
//
// JSON only: no dependency, and a format every deployment tool writes.

import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';

/** Options about the configuration itself, not keys of it. */
const META_KEYS = new Set(['config', 'printConfig']);

/** Largest config file read (a config is a few hundred bytes). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** SPOOL_ plus the attribute in upper snake case: dataDir -> SPOOL_DATA_DIR. */
export function envName(key: string): string {
  return `SPOOL_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

function settingOptions(command: Command): Option[] {
  return command.options.filter((option) => !META_KEYS.has(option.attributeName()));
}

/** A value from the environment or the file, through the flag's own parser. */
function parseSetting(option: Option, raw: unknown, where: string): unknown {
  const key = option.attributeName();
  if (option.isBoolean()) {
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'string' && /^(true|1|yes)$/i.test(raw)) return true;
    if (typeof raw === 'string' && /^(false|0|no)$/i.test(raw)) return false;
    throw new ConfigError(`${where}: ${key} must be true or false, got ${JSON.stringify(raw)}`);
  }
  // A boolean too: a flag that takes `true|false` (e.g. --auto-leader-rebalance) is printed as a JSON boolean.
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw new ConfigError(`${where}: ${key} must be a string, a number or a boolean, got ${JSON.stringify(raw)}`);
  const text = String(raw);
  if (option.parseArg === undefined) return text;
  try {
    return option.parseArg(text, undefined);
  } catch (error) {
    throw new ConfigError(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_FILE_BYTES) throw new ConfigError(`config file ${path} is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must hold one JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Fills every setting not given as a flag from the environment, then from the file named
 * by --config. Run as the serve command's preAction hook (after commander has parsed the
 * flags and set the defaults).
 */
export function applyServeConfig(command: Command, env: NodeJS.ProcessEnv = process.env): void {
  const options = settingOptions(command);
  const unset = (key: string): boolean => {
    const source = command.getOptionValueSource(key);
    return source === undefined || source === 'default';
  };
  for (const option of options) {
    const key = option.attributeName();
    const value = env[envName(key)];
    if (value !== undefined && unset(key)) command.setOptionValueWithSource(key, parseSetting(option, value, `environment variable ${envName(key)}`), 'env');
  }
  const path = command.getOptionValue('config') as string | undefined;
  if (path === undefined) return;
  const file = readConfigFile(path);
  const byKey = new Map(options.map((option) => [option.attributeName(), option]));
  for (const [key, raw] of Object.entries(file)) {
    const option = byKey.get(key);
    if (option === undefined) throw new ConfigError(`config file ${path}: unknown key "${key}" (keys: ${[...byKey.keys()].join(', ')})`);
    const value = parseSetting(option, raw, `config file ${path}`);
    if (unset(key)) command.setOptionValueWithSource(key, value, 'config');
  }
}

/** How a parsed value is written back as the file's value; the default keeps numbers, strings and booleans. */
export type SettingFormatter = (value: unknown) => string | number | boolean;

/** The effective settings as a JSON object --config accepts (unset optional flags left out). */
export function effectiveConfig(command: Command, formatters: Readonly<Record<string, SettingFormatter>>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const option of settingOptions(command)) {
    const key = option.attributeName();
    const value: unknown = command.getOptionValue(key);
    if (value === undefined) continue;
    const format = formatters[key];
    config[key] = format ? format(value) : typeof value === 'object' && value !== null && 'host' in value && 'port' in value ? `${String(value.host)}:${String(value.port)}` : value;
  }
  return config;
}
