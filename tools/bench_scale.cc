// `walcache bench --workload scale` (see bench_scale.h).
#include "tools/bench_scale.h"

#include <rocksdb/db.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "tools/bench_child.h"
#include "tools/json.h"
#include "util/file_system.h"
#include "util/status_macros.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

Options CacheOptions(const ScaleSpec& spec) {
  Options o;
  o.durability = Durability::kBuffered;
  o.memory_budget_bytes = spec.memory_budget_bytes;
  return o;
}

std::string Num(uint64_t n) {
  char b[24];
  std::snprintf(b, sizeof(b), "%010llu", static_cast<unsigned long long>(n));
  return b;
}

}  // namespace

Status RunScaleOpen(const ScaleSpec& spec, uint64_t entries) {
  ScaleOpen r;
  // Twice: the first open recovers the log the cache's last checkpoint left in RocksDB (and
  // flushes it), which would otherwise fall to whichever open came first. The second opens the
  // same settled store that Cache::Open then opens; only DB::Open is timed (its close waits for
  // the compactions the open scheduled).
  for (int round = 0; round < 2; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    rocksdb::DB* raw = nullptr;
    rocksdb::Options ro;
    const rocksdb::Status s = rocksdb::DB::Open(ro, JoinPath(spec.dir, "rocksdb"), &raw);
    if (!s.ok()) return Status::IOError("open RocksDB: " + s.ToString());
    r.rocksdb_open_s = SecondsSince(t0);
    delete raw;
  }
  const auto t0 = std::chrono::steady_clock::now();
  Result<std::unique_ptr<Cache>> c = Cache::Open(spec.dir, CacheOptions(spec));
  if (!c.ok()) return c.status();
  r.open_s = SecondsSince(t0);
  r.rss_bytes = RssBytes();
  r.memory_bytes = (*c)->Stats().memory_bytes;
  const uint64_t pairs = entries / 2;
  std::mt19937_64 rng(7);
  const std::string value(spec.value_size, 'w');
  auto t1 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < spec.probe_ops; ++i) {  // each invalidates a stored d:N
    Result<uint64_t> w = (*c)->Put("s:" + Num(rng() % pairs), value);
    if (!w.ok()) return w.status();
  }
  r.invalidating_writes_per_s = static_cast<double>(spec.probe_ops) / SecondsSince(t1);
  t1 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < spec.probe_ops; ++i) {
    Result<Entry> g = (*c)->Get("d:" + Num(rng() % pairs));
    if (!g.ok() && !g.status().IsNotFound()) return g.status();
  }
  r.reads_per_s = static_cast<double>(spec.probe_ops) / SecondsSince(t1);
  r.index_seeks = (*c)->Stats().index_seeks;
  Status closed = (*c)->Close();
  if (!closed.ok()) return closed;
  Json j = Json::object();
  j["rocksdb_open_s"] = r.rocksdb_open_s;
  j["open_s"] = r.open_s;
  j["rss_bytes"] = r.rss_bytes;
  j["memory_bytes"] = r.memory_bytes;
  j["invalidating_writes_per_s"] = r.invalidating_writes_per_s;
  j["reads_per_s"] = r.reads_per_s;
  j["index_seeks"] = r.index_seeks;
  std::printf("%s\n", JsonText(j).c_str());
  return Status::OK();
}

Result<std::vector<ScaleRow>> RunScaleStudy(const ScaleSpec& spec, const std::string& self) {
  std::vector<ScaleRow> rows;
  uint64_t pairs_done = 0;
  const std::string value(spec.value_size, 'v');
  for (uint64_t size : spec.sizes) {
    ScaleRow row;
    row.entries = size;
    {
      Result<std::unique_ptr<Cache>> c = Cache::Open(spec.dir, CacheOptions(spec));
      if (!c.ok()) return c.status();
      const uint64_t target = size / 2;
      const auto t0 = std::chrono::steady_clock::now();
      const uint64_t from = pairs_done;
      for (; pairs_done < target; ++pairs_done) {
        const std::string n = Num(pairs_done);
        Transaction txn = (*c)->Begin();
        txn.Put("s:" + n, value);
        txn.Put("d:" + n, value, {.related = {{"s:" + n, 0}}});
        Result<uint64_t> id = txn.Commit();
        if (!id.ok()) return id.status();
      }
      const double secs = SecondsSince(t0);
      row.load_txn_per_s = secs > 0 ? static_cast<double>(pairs_done - from) / secs : 0;
      Status closed = (*c)->Close();
      if (!closed.ok()) return closed;
    }
    const std::string cmd = "'" + self + "' bench --workload scale-open --dir '" + spec.dir +
                            "' --ops " + std::to_string(spec.probe_ops) + " --keys " +
                            std::to_string(size) + " --memory-budget " +
                            std::to_string(spec.memory_budget_bytes) + " --value-size " +
                            std::to_string(spec.value_size);
    WALCACHE_ASSIGN_OR_RETURN(std::string out, RunBenchChild(cmd));
    const Json j = Json::parse(out, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::Corruption("the reopen printed " + out);
    row.open.rocksdb_open_s = j.value("rocksdb_open_s", 0.0);
    row.open.open_s = j.value("open_s", 0.0);
    row.open.rss_bytes = j.value("rss_bytes", uint64_t{0});
    row.open.memory_bytes = j.value("memory_bytes", uint64_t{0});
    row.open.invalidating_writes_per_s = j.value("invalidating_writes_per_s", 0.0);
    row.open.reads_per_s = j.value("reads_per_s", 0.0);
    row.open.index_seeks = j.value("index_seeks", uint64_t{0});
    rows.push_back(row);
  }
  return rows;
}

}  // namespace walcache::tools
