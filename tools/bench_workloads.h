// The workloads of `walcache bench`: each runs on a directory it is given and returns what it
// measured. Errors are values (no exceptions); the CLI layer in bench.cc prints them.
// Thread-safety: each call runs its own threads and shares nothing with other calls.
#ifndef WALCACHE_TOOLS_BENCH_WORKLOADS_H_
#define WALCACHE_TOOLS_BENCH_WORKLOADS_H_

#include <cstdint>
#include <string>

#include "util/file_system.h"
#include "walcache/durability.h"
#include "walcache/result.h"

namespace walcache::tools {

struct WorkloadSpec {
  int threads = 1;
  Durability durability = Durability::kSync;
  uint64_t ops = 10000;  // in total, split evenly across threads
  size_t value_size = 100;
  uint64_t segment_size = 64ull << 20;
  bool compression = true;
  int64_t group_wait_us = 200;  // WriterOptions::max_group_wait
  bool zipf = false;            // txn: keys drawn Zipf(0.99) over the key space, not uniformly
};

struct WorkloadResult {
  uint64_t ops = 0;
  double seconds = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t fsyncs = 0;
  uint64_t groups = 0;             // WAL write groups (wal workload)
  uint64_t bytes = 0;              // bytes written (records with headers, or raw writes)
  uint64_t segments = 0;           // WAL segments created (wal workload)
  uint64_t gathers = 0;            // groups whose syncer waited for more records (wal workload)
  uint64_t overlapped_writes = 0;  // group writes during an fdatasync (wal workload)
  uint64_t chained_syncs = 0;      // fdatasyncs begun before the previous group woke (wal)
  uint64_t verified = 0;           // records read back and checked after reopening (wal workload)
  // txn: bytes this process caused to be written to storage from before the open to after the
  // close (/proc/self/io write_bytes, every file and thread), 0 where /proc is missing.
  uint64_t disk_bytes = 0;
  // txn, walcache: what the commit path read of the stored reverse index (CacheStats).
  uint64_t index_seeks = 0;
  uint64_t index_cache_hits = 0;
  uint64_t index_cache_misses = 0;
  uint64_t checkpoints = 0;
};

// Appends `ops` one-put batches through wal::Writer in `dir`/wal, then reopens the WAL with
// wal::Reader and checks that every acknowledged record is there, in dense order, with the
// batch that was written. Corruption if the read-back disagrees.
Result<WorkloadResult> RunWalWorkload(FileSystem* fs, const std::string& dir,
                                      const WorkloadSpec& spec);

// The peer: the same one-put transactions as RunWalWorkload, as RocksDB writes (WriteOptions::
// sync for kSync), in `dir`/rocksdb; every key is read back after reopening.
Result<WorkloadResult> RunRocksDbWorkload(const std::string& dir, const WorkloadSpec& spec);

// One transaction a op: a source key and two keys derived from it (related at the
// transaction's updateId), keys drawn from 100,000 (uniformly, or Zipf 0.99 with spec.zipf).
// With `rocksdb`, the same three puts plus the updateId bookkeeping as one WriteBatch (sync per
// the durability). disk_bytes covers the open, the run and the close (walcache's close
// checkpoints; RocksDB is flushed before its close, so both end with the data in their store).
Result<WorkloadResult> RunTxnWorkload(const std::string& dir, const WorkloadSpec& spec,
                                      bool rocksdb);

// Random reads over a hot set of 10,000 keys held in memory (walcache) or in RocksDB's block
// cache (warmed first); every read must find its key.
Result<WorkloadResult> RunGetWorkload(const std::string& dir, const WorkloadSpec& spec,
                                      bool rocksdb);

// The disk's own limit: each thread writes `value_size` bytes then fdatasyncs, in a loop, on its
// own preallocated file in `dir`.
Result<WorkloadResult> RunFsyncWorkload(FileSystem* fs, const std::string& dir,
                                        const WorkloadSpec& spec);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_WORKLOADS_H_
