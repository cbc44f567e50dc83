// `walcache bench`: measures the WAL against the disk's own fdatasync rate. Prints one JSON object
// (--json) or one readable line. Exit 0 on success, 1 when the read-back check found a problem,
// 2 when the benchmark could not run.
#ifndef WALCACHE_TOOLS_BENCH_H_
#define WALCACHE_TOOLS_BENCH_H_

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace walcache::tools {

struct BenchOptions {
  std::string workload = "wal";     // wal | txn | get | fsync | hit-ratio | scale | crash-open
  std::string engine = "walcache";  // walcache | rocksdb
  int threads = 1;
  std::string durability = "sync";  // sync | buffered
  uint64_t ops = 10000;
  size_t value_size = 100;
  uint64_t keys = 100'000;  // hit-ratio
  std::string dir;          // empty: a fresh directory under the current one, removed afterwards
  uint64_t segment_size = 64ull << 20;
  bool compression = true;
  int64_t group_wait_us = 200;
  std::string key_dist = "uniform";  // txn: uniform | zipf
  bool json = false;
  std::vector<uint64_t> sizes{1'000'000, 3'000'000};  // scale: entries at each step
  size_t memory_budget = 64 << 20;                    // scale: Options::memory_budget_bytes
  uint64_t wal_mib = 256;                             // crash-open: WAL to replay
};

// Adds the subcommand to `app`; `*exit_code` receives its exit code when it runs.
void RegisterBench(CLI::App* app, int* exit_code);

int RunBench(const BenchOptions& options);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_H_
