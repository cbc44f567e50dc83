// `walcache bench --workload txn|get` (see bench_workloads.h): the Cache against RocksDB doing
// the same work.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>

#include <atomic>
#include <fstream>

#include "tools/bench_util.h"
#include "tools/zipf.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

constexpr uint64_t kTxnKeys = 100000;
constexpr uint64_t kHotKeys = 10000;

Status FromRocks(const rocksdb::Status& s, const char* what) {
  return s.ok() ? Status::OK() : Status::IOError(std::string(what) + ": " + s.ToString());
}

struct Rocks {
  std::unique_ptr<rocksdb::DB> db;
  std::shared_ptr<rocksdb::Statistics> stats;
};

Result<Rocks> OpenRocks(const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.statistics = rocksdb::CreateDBStatistics();
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(256 << 20);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* raw = nullptr;
  WALCACHE_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(o, path, &raw), "open RocksDB"));
  return Rocks{std::unique_ptr<rocksdb::DB>(raw), o.statistics};
}

// write_bytes of /proc/self/io: what this process has caused to be sent to storage so far (at
// page-dirtying time, all threads); 0 without /proc.
uint64_t ProcessWriteBytes() {
  std::ifstream io("/proc/self/io");
  std::string name;
  uint64_t value = 0;
  while (io >> name >> value) {
    if (name == "write_bytes:") return value;
  }
  return 0;
}

Result<std::unique_ptr<Cache>> OpenCache(const std::string& dir, const WorkloadSpec& spec) {
  Options o;
  o.durability = spec.durability;
  o.wal_segment_size = spec.segment_size;
  o.compression = spec.compression;
  return Cache::Open(dir, o);
}

}  // namespace

Result<WorkloadResult> RunTxnWorkload(const std::string& dir, const WorkloadSpec& spec,
                                      bool rocksdb) {
  std::vector<std::string> values(spec.threads);
  std::vector<std::mt19937_64> rngs;
  for (int t = 0; t < spec.threads; ++t) {
    rngs.emplace_back(static_cast<uint64_t>(t) + 11);
    values[t] = ValueFor(&rngs[t], spec.value_size);
  }
  const Zipf zipf(kTxnKeys, 0.99);
  auto next_key = [&](int t) {
    return std::to_string(spec.zipf ? zipf.Next(rngs[t]) : rngs[t]() % kTxnKeys);
  };
  WorkloadResult r;
  std::vector<double> lat;
  const uint64_t written_before = ProcessWriteBytes();
  if (!rocksdb) {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Cache> c, OpenCache(JoinPath(dir, "cache"), spec));
    WALCACHE_RETURN_IF_ERROR(
        RunThreads(spec.threads, spec.ops, &lat, &r.seconds, [&](int t, uint64_t) -> Status {
          const std::string n = next_key(t);
          Transaction txn = c->Begin();
          txn.Put("s:" + n, values[t]);
          txn.Put("d1:" + n, values[t], {.related = {{"s:" + n, 0}}});
          txn.Put("d2:" + n, values[t], {.related = {{"s:" + n, 0}}});
          return txn.Commit(spec.durability).status();
        }));
    const CacheStats s = c->Stats();
    r.fsyncs = s.wal_fsyncs;
    r.verified = s.commits;
    r.index_seeks = s.index_seeks;
    r.index_cache_hits = s.index_cache_hits;
    r.index_cache_misses = s.index_cache_misses;
    r.checkpoints = s.checkpoints;
    WALCACHE_RETURN_IF_ERROR(c->Close());
  } else {
    WALCACHE_ASSIGN_OR_RETURN(Rocks db, OpenRocks(JoinPath(dir, "rocksdb")));
    rocksdb::WriteOptions wo;
    wo.sync = spec.durability == Durability::kSync;
    std::atomic<uint64_t> next_id{0};
    WALCACHE_RETURN_IF_ERROR(
        RunThreads(spec.threads, spec.ops, &lat, &r.seconds, [&](int t, uint64_t) -> Status {
          // The same three puts, with the updateId bookkeeping walcache does for you: the
          // source's id in its value, the source's id in each derived value, the last id.
          const std::string n = next_key(t);
          const std::string id = std::to_string(next_id.fetch_add(1) + 1);
          rocksdb::WriteBatch b;
          b.Put("s:" + n, id + "|" + values[t]);
          b.Put("d1:" + n, id + "|s:" + n + "@" + id + "|" + values[t]);
          b.Put("d2:" + n, id + "|s:" + n + "@" + id + "|" + values[t]);
          b.Put("meta:last_id", id);
          return FromRocks(db.db->Write(wo, &b), "RocksDB write");
        }));
    r.fsyncs = db.stats->getTickerCount(rocksdb::WAL_FILE_SYNCED);
    r.verified = next_id.load();
    WALCACHE_RETURN_IF_ERROR(FromRocks(db.db->Flush({}), "RocksDB flush"));
    WALCACHE_RETURN_IF_ERROR(FromRocks(db.db->Close(), "RocksDB close"));
  }
  r.disk_bytes = ProcessWriteBytes() - written_before;
  r.ops = lat.size();
  Percentiles(&lat, &r);
  if (r.verified != r.ops) {
    return Status::Corruption("committed " + std::to_string(r.verified) + " of " +
                              std::to_string(r.ops) + " transactions");
  }
  return r;
}

// Reads take a few hundred ns; both engines time one in 16 (throughput counts all).
constexpr uint64_t kSampleEvery = 16;

Result<WorkloadResult> RunGetWorkload(const std::string& dir, const WorkloadSpec& spec,
                                      bool rocksdb) {
  std::mt19937_64 load_rng(5);
  const std::string value = ValueFor(&load_rng, spec.value_size);
  auto key = [](uint64_t i) { return "hot:" + std::to_string(i); };
  std::vector<std::mt19937_64> rngs;
  for (int t = 0; t < spec.threads; ++t) rngs.emplace_back(static_cast<uint64_t>(t) + 21);
  WorkloadResult r;
  std::vector<double> lat;
  struct alignas(64) Count {  // one cache line a thread: a shared counter would be timed too
    uint64_t n = 0;
  };
  std::vector<Count> found(static_cast<size_t>(spec.threads));
  if (!rocksdb) {
    WorkloadSpec load = spec;
    load.durability = Durability::kBuffered;
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Cache> c, OpenCache(JoinPath(dir, "cache"), load));
    for (uint64_t i = 0; i < kHotKeys; ++i) {
      WALCACHE_RETURN_IF_ERROR(c->Put(key(i), value).status());
    }
    WALCACHE_RETURN_IF_ERROR(c->Checkpoint());
    WALCACHE_RETURN_IF_ERROR(RunThreads(
        spec.threads, spec.ops, &lat, &r.seconds,
        [&](int t, uint64_t) -> Status {
          Result<Entry> e = c->Get(key(rngs[t]() % kHotKeys));
          if (!e.ok()) return e.status();
          if (e->value.size() == value.size()) found[t].n++;
          return Status::OK();
        },
        kSampleEvery));
  } else {
    WALCACHE_ASSIGN_OR_RETURN(Rocks db, OpenRocks(JoinPath(dir, "rocksdb")));
    for (uint64_t i = 0; i < kHotKeys; ++i) {
      WALCACHE_RETURN_IF_ERROR(FromRocks(db.db->Put({}, key(i), value), "RocksDB put"));
    }
    WALCACHE_RETURN_IF_ERROR(FromRocks(db.db->Flush({}), "RocksDB flush"));
    std::string v;
    for (uint64_t i = 0; i < kHotKeys; ++i) {  // warm the block cache with the hot set
      WALCACHE_RETURN_IF_ERROR(FromRocks(db.db->Get({}, key(i), &v), "RocksDB get"));
    }
    WALCACHE_RETURN_IF_ERROR(RunThreads(
        spec.threads, spec.ops, &lat, &r.seconds,
        [&](int t, uint64_t) -> Status {
          std::string got;
          WALCACHE_RETURN_IF_ERROR(
              FromRocks(db.db->Get({}, key(rngs[t]() % kHotKeys), &got), "RocksDB get"));
          if (got.size() == value.size()) found[t].n++;
          return Status::OK();
        },
        kSampleEvery));
  }
  r.ops = spec.ops;  // RunThreads returned OK: every op ran
  for (const Count& c : found) r.verified += c.n;
  Percentiles(&lat, &r);
  if (r.verified != r.ops) {
    return Status::Corruption("read " + std::to_string(r.verified) + " of " +
                              std::to_string(r.ops) + " hot keys back");
  }
  return r;
}

}  // namespace walcache::tools
