// `walcache bench --workload ycsb|ycsb-a|ycsb-b|ycsb-c|ycsb-f`: YCSB's core mixes over a data set
// sized against the memory budget, on walcache and on RocksDB doing the same work.
//
// The data: `records` sources s:N and one entry d:N derived from each (related to s:N at its
// updateId), `value_size` bytes each, loaded and checkpointed (RocksDB: flushed), then the store
// is reopened, so the run starts with nothing in memory. An op draws N (uniform, or Zipf 0.99
// with the ranks scattered over the key space, as YCSB's scrambled Zipfian) and is
//   - a read: Get(d:N);
//   - an update: one transaction that writes s:N and re-derives d:N from it;
//   - a read-modify-write (F): Get(s:N), then the update with Expect(s:N, what was read).
// A: 50% reads, 50% updates; B: 95/5; C: reads only; F: 50% reads, 50% read-modify-writes.
// RocksDB: a Get for a read, a WriteBatch of the two puts with the updateId bookkeeping in the
// values (as the txn workload) for an update, a Get then that batch for F; its block cache is
// walcache's memory budget plus walcache's own block cache, so both have the same memory.
//
// Thread-safety: each call runs its own threads and shares nothing with other calls.
#ifndef WALCACHE_TOOLS_BENCH_YCSB_H_
#define WALCACHE_TOOLS_BENCH_YCSB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "walcache/durability.h"
#include "walcache/result.h"

namespace walcache::tools {

struct YcsbCell {
  char mix = 'a';  // 'a', 'b', 'c' or 'f'
  bool zipf = false;
};

struct YcsbSpec {
  std::vector<YcsbCell> cells;  // run one after the other on the one loaded data set
  uint64_t records = 100000;
  uint64_t ops = 100000;  // a cell, split across threads
  int threads = 1;
  size_t value_size = 100;
  size_t memory_budget_bytes = 64 << 20;
  size_t block_cache_bytes = 16 << 20;  // walcache's RocksDB block cache
  Durability durability = Durability::kBuffered;
};

struct YcsbRow {
  YcsbCell cell;
  uint64_t ops = 0;
  uint64_t reads = 0, updates = 0, conflicts = 0;
  double seconds = 0;
  double p50_us = 0, p99_us = 0;
  uint64_t rss_bytes = 0;     // after the cell
  uint64_t memory_bytes = 0;  // walcache: CacheStats::memory_bytes after the cell
  uint64_t data_bytes = 0;    // keys and values loaded (both entries of each record)
  double load_s = 0;          // the load, its checkpoint or flush and the reopen
};

// Loads the data set into `dir` and runs every cell of `spec` on it, in order.
Result<std::vector<YcsbRow>> RunYcsb(const std::string& dir, const YcsbSpec& spec, bool rocksdb);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_YCSB_H_
