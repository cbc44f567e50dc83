// SPDX-License-Identifier: Apache-2.0
// `walcache bench --workload scale` (issue 14): grows one cache through a list of sizes — N
// sources `s:i` and N entries `d:i` derived from them, one pair a transaction, buffered — and at
// each size reports, each measured in a fresh process so that no memory of the load counts:
// the clean reopen's time, RSS right after it and Stats().memory_bytes; the txn/s of rewriting
// random pairs (the source write must invalidate a derived entry that only RocksDB holds, then
// re-derive it); and, as the peer in the same run, RocksDB's own DB::Open of the cache's store
// with its RSS (after one open not counted, which replays and flushes RocksDB's log). `--workload scale-open` is the child's half (one line of key=value pairs).
// Thread-safety: single-threaded but for the loader's threads.
#ifndef WALCACHE_TOOLS_SCALE_BENCH_H_
#define WALCACHE_TOOLS_SCALE_BENCH_H_

#include <string>

#include "tools/bench.h"

namespace walcache::tools {

// Both print what they measured and return the exit code (0, or 2 if the run failed).
int RunScaleBench(const BenchOptions& options, const std::string& dir);
int RunScaleOpen(const BenchOptions& options, const std::string& dir);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_SCALE_BENCH_H_
