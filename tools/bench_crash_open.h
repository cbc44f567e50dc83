// `walcache bench --workload crash-open` (issue 14): what an open after a crash costs, and how
// fast it replays the WAL, against wal::Reader alone reading the same bytes in the same run.
// A child (`--workload crash-open-load`) commits transactions with every checkpoint trigger off
// until they logged --wal-mib MiB (CacheStats::wal_bytes_logged), then SIGKILLs itself; a second
// child
// (`--workload crash-open-measure`) reads that WAL through wal::Reader (decoding and checksums:
// the peer), then times Cache::Open, which replays it. The transactions are the txn workload's
// (a source and two entries derived from it, over --keys sources), so the dirty entries stay
// within the memory budget while the WAL grows.
// Thread-safety: single-threaded; each step runs as a child process.
#ifndef WALCACHE_TOOLS_BENCH_CRASH_OPEN_H_
#define WALCACHE_TOOLS_BENCH_CRASH_OPEN_H_

#include <cstdint>
#include <string>

#include "walcache/result.h"

namespace walcache::tools {

struct CrashOpenSpec {
  uint64_t wal_bytes = 256ull << 20;
  size_t value_size = 100;
  size_t memory_budget_bytes = 1ull << 30;
  uint64_t keys = 100'000;  // sources; each transaction writes one and its two derived entries
  std::string dir;          // the cache's directory
};

struct CrashOpenResult {
  uint64_t records = 0;         // records wal::Reader read
  double reader_s = 0;          // wal::Reader over every record
  double open_s = 0;            // Cache::Open, replay included
  uint64_t bytes_replayed = 0;  // RecoveryInfo
  uint64_t records_replayed = 0;
  uint64_t rss_bytes = 0;  // VmRSS right after the open
};

// Runs both children (`self` is the walcache binary) and returns what the second measured.
Result<CrashOpenResult> RunCrashOpenStudy(const CrashOpenSpec& spec, const std::string& self);

// The first child's part: load, then SIGKILL this process. Returns only on an error.
Status RunCrashOpenLoad(const CrashOpenSpec& spec);

// The second child's part: measure, print one JSON line to stdout.
Status RunCrashOpenMeasure(const CrashOpenSpec& spec);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_CRASH_OPEN_H_
