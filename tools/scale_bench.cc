// SPDX-License-Identifier: Apache-2.0
// `walcache bench --workload scale` (see scale_bench.h).
#include "tools/scale_bench.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "tools/json.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

uint64_t RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

Options CacheOptions(const BenchOptions& o) {
  Options opts;
  opts.durability = Durability::kBuffered;
  opts.memory_budget_bytes = o.budget_mib << 20;
  return opts;
}

// One pair: the source and the entry derived from it at the transaction's updateId.
Status CommitPair(Cache* cache, uint64_t i, const std::string& value) {
  Transaction t = cache->Begin();
  const std::string s = "s:" + std::to_string(i);
  t.Put(s, value);
  t.Put("d:" + std::to_string(i), value, {.related = {{s, 0}}});
  return t.Commit().status();
}

std::vector<uint64_t> Sizes(const std::string& list) {
  std::vector<uint64_t> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoull(item));
  return out;
}

// Runs this binary's `bench --workload scale-open` on `dir` and returns its line.
std::string Child(const BenchOptions& o, const std::string& dir, const std::string& engine) {
  // The shell popen runs would be /proc/self/exe: name this binary itself.
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  const std::string cmd = "'" + self + "' bench --workload scale-open --dir '" + dir +
                          "' --engine " + engine + " --ops " + std::to_string(o.ops) +
                          " --budget-mib " + std::to_string(o.budget_mib);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

int RunScaleOpen(const BenchOptions& o, const std::string& dir) {
  if (o.engine == "rocksdb") {
    // RocksDB's own open of the cache's store, with a block cache the size walcache gives it.
    rocksdb::Options ro;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(Options().block_cache_bytes);
    ro.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    const auto t0 = Clock::now();
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(ro, dir + "/rocksdb", &raw);
    const double open_s = SecondsSince(t0);
    if (!s.ok()) {
      std::cerr << "scale-open: " << s.ToString() << std::endl;
      return 2;
    }
    std::printf("open_s=%.4f rss_kib=%llu\n", open_s, static_cast<unsigned long long>(RssKib()));
    delete raw;
    return 0;
  }
  const auto t0 = Clock::now();
  Result<std::unique_ptr<Cache>> c = Cache::Open(dir, CacheOptions(o));
  const double open_s = SecondsSince(t0);
  if (!c.ok()) {
    std::cerr << "scale-open: " << c.status().ToString() << std::endl;
    return 2;
  }
  Cache* cache = c->get();
  const uint64_t rss = RssKib();
  const CacheStats st = cache->Stats();
  // Rewrites of random pairs: each source write must invalidate its derived entry, held (after
  // a reopen) by RocksDB only, then derive it again.
  const uint64_t n = st.last_seq;  // one pair a transaction since the store was made
  std::mt19937_64 rng(42);
  const std::string value(o.value_size, 'v');
  const uint64_t before = cache->Stats().invalidations;
  const auto t1 = Clock::now();
  for (uint64_t k = 0; k < o.ops; ++k) {
    const Status s = CommitPair(cache, rng() % n, value);
    if (!s.ok()) {
      std::cerr << "scale-open: " << s.ToString() << std::endl;
      return 2;
    }
  }
  const double cascade_s = SecondsSince(t1);
  const CacheStats after = cache->Stats();
  std::printf(
      "open_s=%.4f rss_kib=%llu memory_bytes=%llu cascade_txn_s=%.0f invalidated=%llu "
      "rss_after_kib=%llu\n",
      open_s, static_cast<unsigned long long>(rss),
      static_cast<unsigned long long>(st.memory_bytes), o.ops / cascade_s,
      static_cast<unsigned long long>(after.invalidations - before),
      static_cast<unsigned long long>(RssKib()));
  const Status s = cache->Close();
  return s.ok() ? 0 : 2;
}

int RunScaleBench(const BenchOptions& o, const std::string& dir) {
  uint64_t have = 0;
  const std::string value(o.value_size, 'v');
  for (uint64_t size : Sizes(o.sizes)) {
    Result<std::unique_ptr<Cache>> c = Cache::Open(dir, CacheOptions(o));
    if (!c.ok()) {
      std::cerr << "walcache bench: " << c.status().ToString() << std::endl;
      return 2;
    }
    const auto t0 = Clock::now();
    std::atomic<uint64_t> next{have};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
      threads.emplace_back([&] {
        for (uint64_t i = next++; i < size && !failed; i = next++) {
          if (!CommitPair(c->get(), i, value).ok()) failed = true;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    const double load_s = SecondsSince(t0);
    const Status closed = (*c)->Close();
    if (failed || !closed.ok()) {
      std::cerr << "walcache bench: the load failed " << closed.ToString() << std::endl;
      return 2;
    }
    const double load_txn_s = static_cast<double>(size - have) / load_s;
    have = size;
    // RocksDB's first open after the cache closed replays and flushes its own log (the last
    // checkpoints): not counted against either side. Then each side opens the same flushed store.
    const std::string first = Child(o, dir, "rocksdb");
    const std::string rocks = Child(o, dir, "rocksdb");
    const std::string mine = Child(o, dir, "walcache");
    if (o.json) {
      Json j = Json::object();
      j["workload"] = "scale";
      j["pairs"] = size;
      j["entries"] = 2 * size;
      j["load_txn_s"] = load_txn_s;
      j["walcache"] = mine;
      j["rocksdb"] = rocks;
      j["rocksdb_first_open"] = first;
      std::cout << JsonText(j) << std::endl;
    } else {
      std::printf(
          "scale entries=%llu load_txn_s=%.0f walcache: %s | rocksdb: %s | rocksdb first open "
          "(its log replayed): %s\n",
          static_cast<unsigned long long>(2 * size), load_txn_s, mine.c_str(), rocks.c_str(),
          first.c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace walcache::tools
