// `walcache bench --workload scale` (issue 14): grows one cache through a list of sizes and, at
// each, measures what follows the data set and what must not: the load rate, a clean reopen (in a
// fresh process, beside RocksDB's own DB::Open of the same store), the RSS and memory_bytes
// right after it, source writes whose derived entry is only in RocksDB, and uniform reads of
// derived entries. Entries are sources `s:N` and one entry `d:N` derived from each, written one
// pair a transaction (buffered), with a 64 MiB memory budget by default.
// Thread-safety: single-threaded; each reopen runs as a child process (`--workload scale-open`).
#ifndef WALCACHE_TOOLS_BENCH_SCALE_H_
#define WALCACHE_TOOLS_BENCH_SCALE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "walcache/result.h"

namespace walcache::tools {

struct ScaleSpec {
  std::vector<uint64_t> sizes{1'000'000, 3'000'000};  // entries (half sources, half derived)
  size_t value_size = 100;
  size_t memory_budget_bytes = 64 << 20;
  uint64_t probe_ops = 20'000;  // source writes, and reads, measured at each size
  std::string dir;
};

// What one reopen measured (the child's JSON line).
struct ScaleOpen {
  double rocksdb_open_s = 0;  // rocksdb::DB::Open of DIR/rocksdb (settled by an open before)
  double open_s = 0;          // Cache::Open
  uint64_t rss_bytes = 0;     // VmRSS right after Cache::Open
  uint64_t memory_bytes = 0;  // Stats().memory_bytes then
  double invalidating_writes_per_s = 0;
  double reads_per_s = 0;
  uint64_t index_seeks = 0;
};

struct ScaleRow {
  uint64_t entries = 0;
  double load_txn_per_s = 0;  // this step's load
  ScaleOpen open;
};

// Runs the steps; `self` is the walcache binary, run for each reopen. One row a size.
Result<std::vector<ScaleRow>> RunScaleStudy(const ScaleSpec& spec, const std::string& self);

// The child's part: reopen `dir`, measure, print one JSON line to stdout.
Status RunScaleOpen(const ScaleSpec& spec, uint64_t entries);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_SCALE_H_
