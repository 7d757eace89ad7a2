// PLACEHOLDER (CLI work): registers topic, produce, consume, group, dump-segment, bench.
import type { Command } from 'commander';

export function registerCommands(_program: Command): void {}
