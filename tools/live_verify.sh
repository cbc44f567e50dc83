#!/usr/bin/env bash
# tools/live_verify.sh: the read-only commands against a live cache, as a monitoring job would run
# them. For each writer count and durability mode it starts `walcache bench --workload txn` in the
# background (4 MiB segments, so it rotates and checkpoints), then runs `verify`, `wal dump` and
# `inspect` in a loop for SECONDS and counts the calls that did not exit 0 (false alarms: nothing
# is damaged). Prints one line a configuration and a total; exits 1 if any call raised an alarm.
#
#   tools/live_verify.sh BIN [SECONDS] [WRITERS] [MODES]
#   tools/live_verify.sh build/release/tools/walcache 60 "1 4 8" "sync buffered"
#
# Works in a fresh directory under $TMPDIR (or /tmp) and removes it. Single-threaded shell; not
# meant to run twice in one directory.
set -u
bin=$(realpath "$1")
seconds=${2:-60}
writers=${3:-"1 4 8"}
modes=${4:-"sync buffered"}
work=$(mktemp -d "${TMPDIR:-/tmp}/walcache-live.XXXXXX")
trap 'rm -rf "$work"' EXIT

total_calls=0
total_alarms=0
for mode in $modes; do
  for w in $writers; do
    dir="$work/live-$mode-$w"
    "$bin" bench --workload txn --durability "$mode" --threads "$w" --ops 100000000 \
      --dir "$dir" --segment-size 4194304 >"$work/bench.out" 2>&1 &
    writer=$!
    # Wait (up to 60 s) until the writer holds the directory and has written its first segment.
    for _ in $(seq 600); do
      [ -e "$dir/cache/LOCK" ] && ls "$dir/cache/wal/"*.wal >/dev/null 2>&1 && break
      sleep 0.1
    done
    sleep 1
    calls=0
    alarms=0
    first=""
    end=$((SECONDS + seconds))
    while [ $SECONDS -lt $end ]; do
      for cmd in verify "wal dump" inspect; do
        # shellcheck disable=SC2086
        "$bin" $cmd "$dir/cache" >"$work/out" 2>"$work/err"
        rc=$?
        calls=$((calls + 1))
        if [ $rc -ne 0 ]; then
          alarms=$((alarms + 1))
          if [ -z "$first" ]; then
            first="$cmd exit $rc: $( (grep -h -m1 -E 'PROBLEM|corrupt|walcache' "$work/err" \
              "$work/out" || true) | head -c 300)"
          fi
        fi
      done
    done
    rotations=$(ls "$dir/cache/wal/" | grep -c '\.wal$')
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
    echo "mode=$mode writers=$w seconds=$seconds calls=$calls false_alarms=$alarms" \
      "segments_at_end=$rotations${first:+ first: $first}"
    total_calls=$((total_calls + calls))
    total_alarms=$((total_alarms + alarms))
    rm -rf "$dir"
  done
done
echo "total: calls=$total_calls false_alarms=$total_alarms"
[ "$total_alarms" -eq 0 ]
