#!/usr/bin/env bash
# The spool bench runs behind the README's Results section (see bench/README.md):
# `bash bench/results/run-spool-bench.sh <out.jsonl>` after `npm run build` (the benches start dist/cli/main.js serve).
# W1-, W2-, W3-like runs three times each (the report takes the median), then two
# producers, e2e latency, a group replay, and the group benchmark, once each.
set -u
out="$(realpath -m "${1:?usage: run-spool-bench.sh <out.jsonl>}")"
cd "$(dirname "$0")/../.."
s="node --import tsx bench/cli.ts"
for i in 1 2 3; do
  $s produce --messages 1000000 --size 100 --json >> "$out"
  $s produce --messages 200000 --size 1KiB --json >> "$out"
  $s consume --messages 1000000 --size 100 --json >> "$out"
done
$s produce --messages 1000000 --size 100 --producers 2 --partitions 2 --json >> "$out"
$s e2e --rate 5000 --duration 10s --size 100 --json >> "$out"
$s consume --messages 1000000 --size 100 --partitions 8 --consumers 2 --json >> "$out"
$s group --messages 1000000 --size 100 --json >> "$out"
