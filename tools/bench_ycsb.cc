// `walcache bench --workload ycsb...` (see bench_ycsb.h).
#include "tools/bench_ycsb.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include <atomic>
#include <functional>
#include <memory>
#include <random>

#include "tools/bench_child.h"
#include "tools/bench_util.h"
#include "tools/zipf.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

constexpr uint64_t kSampleEvery = 8;  // reads take a microsecond: time one op in eight

Status FromRocks(const rocksdb::Status& s, const char* what) {
  return s.ok() ? Status::OK() : Status::IOError(std::string(what) + ": " + s.ToString());
}

// YCSB's scrambled Zipfian: the hot ranks land all over the key space, not on its first keys
// (which would share RocksDB blocks and flatter it).
uint64_t Scatter(uint64_t rank, uint64_t n) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bits, over the rank's bytes
  for (int i = 0; i < 8; ++i) {
    h ^= (rank >> (8 * i)) & 0xff;
    h *= 0x100000001b3ull;
  }
  return h % n;
}

std::string Source(uint64_t n) { return "s:" + std::to_string(n); }
std::string Derived(uint64_t n) { return "d:" + std::to_string(n); }

// Percent of ops that are reads; the rest are updates (or, for F, read-modify-writes).
int ReadPercent(char mix) { return mix == 'b' ? 95 : mix == 'c' ? 100 : 50; }

// What one engine does for each kind of op; each returns an error, or OK.
struct Engine {
  std::function<Status(int thread, uint64_t n)> read;
  std::function<Status(int thread, uint64_t n, const std::string& value)> update;
  std::function<Status(int thread, uint64_t n, const std::string& value)> read_modify_write;
  std::function<uint64_t()> memory_bytes;
};

Result<std::vector<YcsbRow>> RunCells(const YcsbSpec& spec, const Engine& engine, double load_s,
                                      const std::atomic<uint64_t>& conflicts) {
  std::vector<YcsbRow> rows;
  const Zipf zipf(spec.records, 0.99);
  for (const YcsbCell& cell : spec.cells) {
    std::vector<std::mt19937_64> rngs;
    std::vector<std::string> values;
    for (int t = 0; t < spec.threads; ++t) {
      rngs.emplace_back(static_cast<uint64_t>(t) * 7 + cell.mix);
      values.push_back(ValueFor(&rngs.back(), spec.value_size));
    }
    struct alignas(64) Counts {
      uint64_t reads = 0, updates = 0;
    };
    std::vector<Counts> counts(static_cast<size_t>(spec.threads));
    const uint64_t conflicts_before = conflicts.load();
    std::vector<double> lat;
    WorkloadResult timing;
    WALCACHE_RETURN_IF_ERROR(RunThreads(
        spec.threads, spec.ops, &lat, &timing.seconds,
        [&](int t, uint64_t) -> Status {
          std::mt19937_64& rng = rngs[t];
          const uint64_t n =
              cell.zipf ? Scatter(zipf.Next(rng), spec.records) : rng() % spec.records;
          if (static_cast<int>(rng() % 100) < ReadPercent(cell.mix)) {
            counts[t].reads++;
            return engine.read(t, n);
          }
          counts[t].updates++;
          values[t][0] = static_cast<char>(rng());  // a new value each time
          return cell.mix == 'f' ? engine.read_modify_write(t, n, values[t])
                                 : engine.update(t, n, values[t]);
        },
        kSampleEvery));
    Percentiles(&lat, &timing);
    YcsbRow row;
    row.cell = cell;
    row.ops = spec.ops;
    for (const Counts& c : counts) {
      row.reads += c.reads;
      row.updates += c.updates;
    }
    row.conflicts = conflicts.load() - conflicts_before;
    row.seconds = timing.seconds;
    row.p50_us = timing.p50_us;
    row.p99_us = timing.p99_us;
    row.rss_bytes = RssBytes();
    row.memory_bytes = engine.memory_bytes();
    row.data_bytes = spec.records * 2 * (spec.value_size + 10);
    row.load_s = load_s;
    rows.push_back(row);
  }
  return rows;
}

Options CacheOptions(const YcsbSpec& spec) {
  Options o;
  o.durability = spec.durability;
  o.memory_budget_bytes = spec.memory_budget_bytes;
  o.block_cache_bytes = spec.block_cache_bytes;
  return o;
}

Result<std::vector<YcsbRow>> RunOnCache(const std::string& dir, const YcsbSpec& spec) {
  const auto t0 = std::chrono::steady_clock::now();
  {
    Options load = CacheOptions(spec);
    load.durability = Durability::kBuffered;
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Cache> c, Cache::Open(dir, load));
    std::mt19937_64 rng(1);
    const std::string value = ValueFor(&rng, spec.value_size);
    for (uint64_t n = 0; n < spec.records; ++n) {
      Transaction txn = c->Begin();
      txn.Put(Source(n), value);
      txn.Put(Derived(n), value, {.related = {{Source(n), 0}}});
      WALCACHE_RETURN_IF_ERROR(txn.Commit().status());
    }
    WALCACHE_RETURN_IF_ERROR(c->Checkpoint());
    WALCACHE_RETURN_IF_ERROR(c->Close());
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Cache> c, Cache::Open(dir, CacheOptions(spec)));
  const double load_s = SecondsSince(t0);
  std::atomic<uint64_t> conflicts{0};
  Cache* cache = c.get();
  auto write = [&, cache](uint64_t n, const std::string& value,
                          std::optional<uint64_t> expect) -> Status {
    Transaction txn = cache->Begin();
    if (expect.has_value()) txn.Expect(Source(n), *expect);
    txn.Put(Source(n), value);
    txn.Put(Derived(n), value, {.related = {{Source(n), 0}}});  // 0: this transaction's write
    return txn.Commit(spec.durability).status();
  };
  Engine e;
  e.read = [cache](int, uint64_t n) { return cache->Get(Derived(n)).status(); };
  e.update = [write](int, uint64_t n, const std::string& v) { return write(n, v, std::nullopt); };
  e.read_modify_write = [&, cache, write](int, uint64_t n, const std::string& v) -> Status {
    while (true) {
      Result<Entry> source = cache->Get(Source(n));
      if (!source.ok()) return source.status();
      const Status s = write(n, v, source->update_id);
      if (!s.IsConflict()) return s;
      conflicts.fetch_add(1);  // another thread wrote s:N between the read and the commit
    }
  };
  e.memory_bytes = [cache] { return cache->Stats().memory_bytes; };
  WALCACHE_ASSIGN_OR_RETURN(std::vector<YcsbRow> rows, RunCells(spec, e, load_s, conflicts));
  WALCACHE_RETURN_IF_ERROR(c->Close());
  return rows;
}

Result<std::unique_ptr<rocksdb::DB>> OpenRocks(const std::string& path, const YcsbSpec& spec) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(spec.memory_budget_bytes + spec.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));  // as walcache's store
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* raw = nullptr;
  WALCACHE_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(o, path, &raw), "open RocksDB"));
  return std::unique_ptr<rocksdb::DB>(raw);
}

Result<std::vector<YcsbRow>> RunOnRocks(const std::string& dir, const YcsbSpec& spec) {
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next_id{0};
  // The updateId bookkeeping walcache does for you, as the txn workload: the source's id in its
  // value and in the derived value, the last id in a key of its own.
  auto batch = [&next_id](uint64_t n, const std::string& value) {
    const std::string id = std::to_string(next_id.fetch_add(1) + 1);
    rocksdb::WriteBatch b;
    b.Put(Source(n), id + "|" + value);
    b.Put(Derived(n), id + "|" + Source(n) + "@" + id + "|" + value);
    b.Put("meta:last_id", id);
    return b;
  };
  {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenRocks(dir, spec));
    std::mt19937_64 rng(1);
    const std::string value = ValueFor(&rng, spec.value_size);
    for (uint64_t n = 0; n < spec.records; ++n) {
      rocksdb::WriteBatch b = batch(n, value);
      WALCACHE_RETURN_IF_ERROR(FromRocks(db->Write({}, &b), "RocksDB write"));
    }
    WALCACHE_RETURN_IF_ERROR(FromRocks(db->Flush({}), "RocksDB flush"));
    WALCACHE_RETURN_IF_ERROR(FromRocks(db->Close(), "RocksDB close"));
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenRocks(dir, spec));
  const double load_s = SecondsSince(t0);
  rocksdb::DB* raw = db.get();
  rocksdb::WriteOptions wo;
  wo.sync = spec.durability == Durability::kSync;
  Engine e;
  e.read = [raw](int, uint64_t n) {
    std::string v;
    return FromRocks(raw->Get({}, Derived(n), &v), "RocksDB get");
  };
  e.update = [raw, wo, batch](int, uint64_t n, const std::string& v) {
    rocksdb::WriteBatch b = batch(n, v);
    return FromRocks(raw->Write(wo, &b), "RocksDB write");
  };
  e.read_modify_write = [raw, wo, batch](int, uint64_t n, const std::string& v) -> Status {
    std::string source;
    WALCACHE_RETURN_IF_ERROR(FromRocks(raw->Get({}, Source(n), &source), "RocksDB get"));
    rocksdb::WriteBatch b = batch(n, v);
    return FromRocks(raw->Write(wo, &b), "RocksDB write");
  };
  e.memory_bytes = [] { return uint64_t{0}; };
  const std::atomic<uint64_t> no_conflicts{0};
  WALCACHE_ASSIGN_OR_RETURN(std::vector<YcsbRow> rows, RunCells(spec, e, load_s, no_conflicts));
  WALCACHE_RETURN_IF_ERROR(FromRocks(db->Close(), "RocksDB close"));
  return rows;
}

}  // namespace

Result<std::vector<YcsbRow>> RunYcsb(const std::string& dir, const YcsbSpec& spec, bool rocksdb) {
  if (spec.records < 2) return Status::InvalidArgument("ycsb needs at least 2 records");
  return rocksdb ? RunOnRocks(JoinPath(dir, "rocksdb"), spec)
                 : RunOnCache(JoinPath(dir, "cache"), spec);
}

}  // namespace walcache::tools
