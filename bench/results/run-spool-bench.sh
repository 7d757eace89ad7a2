#!/usr/bin/env bash
# The spool bench runs behind the README's Results section (see bench/README.md):
# `bash bench/results/run-spool-bench.sh <out.jsonl>` after `npx tsc -p tsconfig.json`.
# W1-, W2-, W3-like runs three times each (the report takes the median), then two
# producers, e2e latency, a group replay, and the group benchmark, once each.
set -u
out="$(realpath -m "${1:?usage: run-spool-bench.sh <out.jsonl>}")"
cd "$(dirname "$0")/../.."
s="node dist/cli/main.js"
for i in 1 2 3; do
  $s bench produce --messages 1000000 --size 100 --json >> "$out"
  $s bench produce --messages 200000 --size 1KiB --json >> "$out"
  $s bench consume --messages 1000000 --size 100 --json >> "$out"
done
$s bench produce --messages 1000000 --size 100 --producers 2 --partitions 2 --json >> "$out"
$s bench e2e --rate 5000 --duration 10s --size 100 --json >> "$out"
$s bench consume --messages 1000000 --size 100 --partitions 8 --consumers 2 --json >> "$out"
$s bench group --messages 1000000 --size 100 --json >> "$out"
