// walcache::Cache — an embedded, write-ahead-logged persistent cache.
//
// Every change is a transaction: logged as one WAL record before it is applied, assigned an
// updateId (its sequence number) that every key it writes carries, and visible to readers only
// once durable under its durability mode. Writing or deleting a key invalidates, in the same
// transaction, every entry derived from it (transitively). An entry derived from sources records
// their updateIds; a commit whose sources are not live at exactly those updateIds is a conflict
// and has no effect, so no entry exists without its matching related-key updateIds.
//
//   auto cache = walcache::Cache::Open("/var/lib/app/cache", {});
//   auto e = (*cache)->Get("user:1");
//   auto txn = (*cache)->Begin();
//   txn.Expect("user:1", e->update_id);
//   txn.Put("profile:1", html, {.related = {{"user:1", e->update_id}}});
//   auto id = txn.Commit();
//
// Thread-safety: Cache is thread-safe. A Transaction is used by one thread at a time.
#ifndef WALCACHE_CACHE_H_
#define WALCACHE_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "walcache/durability.h"
#include "walcache/options.h"
#include "walcache/result.h"
#include "walcache/status.h"
#include "walcache/types.h"

namespace walcache {

namespace engine {
class CacheImpl;
}

struct PutOptions {
  // Time to live in milliseconds (0: no expiry). A derived entry's expiry is clamped to its
  // sources', so it never outlives them.
  uint64_t ttl_ms = 0;
  // The sources this entry was derived from, at the updateIds it was derived from. update_id 0
  // names a source written earlier in the same transaction (its updateId is the transaction's).
  std::vector<RelatedKey> related;
};

// The ops of one transaction, applied in order at Commit, each seeing the effects of the earlier
// ones: a Put, Delete, Invalidate or Touch of a key acts on every entry derived from it,
// transitively, including entries this transaction created before it. The transaction happens
// at one instant (Options::clock_ms). Not thread-safe.
class Transaction {
 public:
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  ~Transaction();

  void Put(std::string_view key, std::string_view value, PutOptions options = {});
  void Delete(std::string_view key);
  void Invalidate(std::string_view key);
  // Sets the key's time to live to ttl_ms from now (0: never expires); no-op if it is absent.
  void Touch(std::string_view key, uint64_t ttl_ms);
  // Commit fails with Conflict unless `key` is live with exactly this updateId...
  void Expect(std::string_view key, uint64_t update_id);
  // ... or unless `key` is absent.
  void ExpectAbsent(std::string_view key);

  // Commits atomically; returns the transaction's updateId once it is durable under
  // `durability` (the cache's default if empty) and visible. Conflict: an expectation or a
  // related updateId did not hold, nothing was written. InvalidArgument: a limit was exceeded.
  // A transaction with no writes returns the updateId of the newest visible transaction.
  Result<uint64_t> Commit(std::optional<Durability> durability = std::nullopt);

  struct Op;  // internal (engine/txn_op.h)

 private:
  friend class Cache;
  explicit Transaction(engine::CacheImpl* impl);
  engine::CacheImpl* impl_;
  std::unique_ptr<std::vector<Op>> ops_;
};

// Mutual exclusion on one key among the threads of this process, held until destroyed.
class KeyLock {
 public:
  KeyLock(KeyLock&&) noexcept;
  KeyLock& operator=(KeyLock&&) noexcept;
  ~KeyLock();

 private:
  friend class Cache;
  explicit KeyLock(std::function<void()> unlock) : unlock_(std::move(unlock)) {}
  std::function<void()> unlock_;
};

struct CacheStats {
  uint64_t last_seq = 0;        // newest visible updateId
  uint64_t checkpoint_seq = 0;  // RocksDB holds the state as of this updateId
  uint64_t commits = 0;
  uint64_t conflicts = 0;
  uint64_t invalidations = 0;   // entries invalidated because a source changed
  uint64_t memory_entries = 0;  // keys held in memory (dirty or cached)
  uint64_t dirty_entries = 0;   // keys changed since the last checkpoint
  uint64_t memory_bytes = 0;    // charged against Options::memory_budget_bytes
  uint64_t dirty_bytes = 0;
  uint64_t evictions = 0;      // clean entries dropped for the memory budget
  uint64_t expired_swept = 0;  // expired entries dropped from memory by the sweeper
  uint64_t reads = 0;          // memory lookups by Get (verify_related_on_read checks too)
  uint64_t read_hits_memory = 0;
  uint64_t read_through = 0;        // entries loaded from RocksDB on a miss
  uint64_t write_stalls = 0;        // commits that waited for a checkpoint (memory full of dirty)
  uint64_t related_mismatches = 0;  // verify_related_on_read findings
  uint64_t checkpoints = 0;
  uint64_t checkpoint_failures = 0;  // failed checkpoints (the WAL keeps what they did not store)
  std::string checkpoint_error;      // the last failure while checkpoints fail; "" after a success
  uint64_t wal_segments_deleted = 0;
  uint64_t wal_fsyncs = 0;
  // Memory RocksDB holds beside the budget: memtables (checkpoints not yet flushed) and block
  // cache (Options::block_cache_bytes bounds it).
  uint64_t rocksdb_memtable_bytes = 0;
  uint64_t rocksdb_block_cache_bytes = 0;
};

struct RecoveryInfo {
  uint64_t checkpoint_seq = 0;
  uint64_t records_replayed = 0;
  uint64_t bytes_replayed = 0;
  uint64_t segments = 0;
  uint64_t tail_bytes_dropped = 0;
  uint64_t last_seq = 0;
  uint64_t micros = 0;             // lock, replay, repair and prewarm
  uint64_t prewarmed_entries = 0;  // loaded into memory by Options::prewarm_bytes
  uint64_t prewarmed_bytes = 0;
  std::string summary;  // one line
};

class Cache {
 public:
  // Opens the cache in `dir` (created if missing), recovering whatever a crash left. Busy if
  // another Cache (in this process or another) has `dir` open, naming the holder.
  static Result<std::unique_ptr<Cache>> Open(const std::string& dir, const Options& options);
  // Checkpoints (unless read-only or failed) and closes.
  ~Cache();

  // The live entry of `key`; NotFound if absent or expired.
  Result<Entry> Get(std::string_view key);
  // One-op transactions under the default durability.
  Result<uint64_t> Put(std::string_view key, std::string_view value, PutOptions options = {});
  Result<uint64_t> Delete(std::string_view key);
  Result<uint64_t> Touch(std::string_view key, uint64_t ttl_ms);

  Transaction Begin();
  KeyLock Lock(std::string_view key);

  // Visits the live entries whose keys start with `prefix`, in key order, until `visit` returns
  // false (memory and RocksDB merged).
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view key, const Entry& e)>& visit);

  // Writes every change up to the newest durable transaction into RocksDB (one synced atomic
  // write) and deletes the WAL segments that checkpoint covers.
  Status Checkpoint();
  // Checkpoint(), then a full RocksDB compaction (expired entries dropped). Blocks until done.
  Status Compact();

  CacheStats Stats() const;
  RecoveryInfo LastRecovery() const;
  // OK, or the error that stopped writes (an I/O error in the WAL); reopen to recover.
  Status health() const;

 private:
  explicit Cache(std::unique_ptr<engine::CacheImpl> impl);
  std::unique_ptr<engine::CacheImpl> impl_;
};

}  // namespace walcache

#endif  // WALCACHE_CACHE_H_
