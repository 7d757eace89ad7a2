// Moved to src/cli/bench/machine.ts (the compiled `spool bench` uses it); this re-export keeps
// older scripts such as bench/group.ts working unchanged.
export * from '../../src/cli/bench/machine.js';
