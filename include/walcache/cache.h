// SPDX-License-Identifier: Apache-2.0
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
//   if (!cache) return cache.status();
//   auto e = (*cache)->Get("user:1");
//   if (!e) return e.status();
//   auto txn = (*cache)->Begin();
//   txn.Expect("user:1", e->update_id);
//   txn.Put("profile:1", html, {.related = {{"user:1", e->update_id}}});
//   auto id = txn.Commit();   // Conflict: user:1 changed since the Get; read again and retry
//
// examples/quickstart.cc is a complete program; docs/concepts.md explains the terms.
//
// Lifetimes: a Transaction or KeyLock may outlive the Cache that made it. Once the Cache is
// closed (Close()) or destroyed, Commit() returns Aborted and a KeyLock's release does nothing
// (the lock went with the Cache). Close and the destructor wait for Commit() calls already
// running on other threads. No method of the Cache itself may run while it is closed or
// destroyed; after Close they fail cleanly (see Close).
//
// Errors: every call returns a Status or Result (the library never throws). Codes that any
// writing call may return besides those listed at it: IOError (the WAL or RocksDB failed; writes
// stop, see health()), Corruption (a stored entry read through from RocksDB is damaged), Aborted
// (the cache is open read-only, or it failed earlier).
//
// Thread-safety: Cache is thread-safe. A Transaction is used by one thread at a time; distinct
// Transactions may be used and committed concurrently. A KeyLock is a value owned by one thread.
#ifndef WALCACHE_CACHE_H_
#define WALCACHE_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "walcache/change_feed.h"
#include "walcache/durability.h"
#include "walcache/export.h"
#include "walcache/get_or_load.h"
#include "walcache/histogram.h"
#include "walcache/options.h"
#include "walcache/result.h"
#include "walcache/snapshot.h"
#include "walcache/status.h"
#include "walcache/types.h"

namespace walcache {

namespace engine {
class CacheImpl;
class CacheOpener;
struct Lifeline;
}  // namespace engine

// Every member has a default, so designated initializers may name any subset of them
// ({.ttl_ms = 60'000}) without -Wmissing-field-initializers warnings.
struct PutOptions {
  // Time to live in milliseconds (0: no expiry). A derived entry's expiry is clamped to its
  // sources', so it never outlives them. At most 2^62 - 1 (InvalidArgument above).
  uint64_t ttl_ms = 0;
  // The sources this entry was derived from, at the updateIds it was derived from. update_id 0
  // names a source written earlier in the same transaction (its updateId is the transaction's).
  // At most Options::max_related (64) entries; none may be empty, oversize or the key itself.
  std::vector<RelatedKey> related = {};
};

// The ops of one transaction, applied in order at Commit, each seeing the effects of the earlier
// ones: a Put, Delete, Invalidate or Touch of a key acts on every entry derived from it,
// transitively, including entries this transaction created before it. The transaction happens
// at one instant (Options::clock_ms).
//
// The op methods only record; nothing is checked or read until Commit, which validates every op
// (limits, empty keys) and reports the first problem. A Transaction commits at most once: after
// Commit() (whatever it returned) it is spent, and later ops are ignored. A moved-from
// Transaction is spent too.
//
// Lifetime: may outlive its Cache (closed or destroyed); Commit() then returns Aborted and
// writes nothing.
// Thread-safety: not thread-safe; one thread at a time.
class WALCACHE_EXPORT Transaction {
 public:
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  ~Transaction();

  // Writes `key` (a new updateId: the transaction's) and invalidates every entry derived from it.
  void Put(std::string_view key, std::string_view value, PutOptions options = {});
  // Removes `key` and invalidates every entry derived from it. A key that is absent is no error:
  // the transaction still writes (a tombstone) and consumes an updateId.
  void Delete(std::string_view key);
  // As Delete: removes `key` and what derives from it; recorded as an invalidation (the entry was
  // stale, not removed by its owner). Absent keys likewise consume an updateId.
  void Invalidate(std::string_view key);
  // Sets the key's time to live to ttl_ms from now (0: never expires), clamped to its sources'
  // expiry, and clamps the entries derived from it. No-op if the key is absent or expired: no
  // error, and a transaction of only such no-ops writes nothing.
  void Touch(std::string_view key, uint64_t ttl_ms);
  // Commit fails with Conflict unless `key` is live with exactly this updateId...
  void Expect(std::string_view key, uint64_t update_id);
  // ... or unless `key` is absent (or expired).
  void ExpectAbsent(std::string_view key);

  // Commits atomically; returns the transaction's updateId once it is durable under
  // `durability` (the cache's default if empty) and visible. A transaction with no writes
  // (only expectations, or Touch of absent keys) consumes no updateId and returns the updateId of
  // the newest visible transaction. Errors, each with nothing written and no updateId consumed:
  //   Conflict         an Expect/ExpectAbsent or a related updateId did not hold (read again and
  //                    retry with a new Transaction);
  //   InvalidArgument  an empty key or related key, a key over Options::max_key_size, a value
  //                    over max_value_size, more than max_related related keys, an entry naming
  //                    itself or a cycle as related, a TTL over 2^62 - 1 ms, a transaction
  //                    whose WAL record would exceed 256 MiB (wal/format.h); or Commit() called
  //                    again on a spent (already committed or moved-from) Transaction;
  //   Aborted          the Cache was closed or destroyed, is open read-only, or failed earlier;
  //   IOError          the WAL write or sync failed (writes stop; see Cache::health()), or a
  //                    read-through from RocksDB failed; Corruption: a stored entry is damaged.
  // After an IOError from the WAL the record may or may not survive a crash (the OS may have
  // written it); it is not visible in this process.
  Result<uint64_t> Commit(std::optional<Durability> durability = std::nullopt);

  struct Op;  // internal (engine/txn_op.h)

 private:
  friend class Cache;
  struct State;  // engine/cache.cc
  explicit Transaction(std::shared_ptr<engine::Lifeline> life);
  void Record(Op op);             // appends, unless spent
  std::unique_ptr<State> state_;  // null: moved from
};

// Mutual exclusion on one key among the threads of this process (Cache::Lock), held until
// Unlock() or destruction. It does not take part in transactions: it serialises the threads
// that agree to lock a key, e.g. to compute an expensive value once (see the README's FAQ).
//
// Lifetime: may outlive its Cache; the lock ended with the Cache (closed or destroyed), so
// releasing it then does nothing (Unlock returns Aborted).
// Thread-safety: not thread-safe; the lock is held on behalf of whoever owns this object.
class WALCACHE_EXPORT KeyLock {
 public:
  KeyLock(KeyLock&&) noexcept;
  KeyLock& operator=(KeyLock&&) noexcept;  // releases the lock this object held first
  ~KeyLock();

  // Releases the lock now. Aborted if the Cache was closed or destroyed (it took the lock with
  // it); InvalidArgument if this object holds no lock (released already, or moved from).
  Status Unlock();
  // True iff this object holds its key's lock (not released, not moved from, Cache alive).
  bool held() const;

 private:
  friend class Cache;
  KeyLock(std::shared_ptr<engine::Lifeline> life, std::string key);
  std::shared_ptr<engine::Lifeline> life_;  // null: released or moved from
  std::string key_;
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
  uint64_t wal_bytes_logged = 0;  // batch bytes of the transactions committed since the open
  uint64_t wal_fsyncs = 0;
  // Memory RocksDB holds beside the budget: memtables (checkpoints not yet flushed) and block
  // cache (Options::block_cache_bytes bounds it).
  uint64_t rocksdb_memtable_bytes = 0;
  uint64_t rocksdb_block_cache_bytes = 0;
  // The reverse index (source -> derived keys): the edges in memory (those of versions not yet
  // checkpointed; the rest live in RocksDB and are read on demand), their bytes (part of
  // memory_bytes), and the prefix seeks of the stored index that cascades made (a source that
  // never had a stored dependent costs none). A source's stored list, once read, is cached
  // (within an eighth of memory_budget_bytes; the lists and their bytes, part of memory_bytes):
  // a lookup that found it there is a hit, one that read RocksDB a miss.
  uint64_t index_memory_edges = 0;
  uint64_t index_memory_bytes = 0;
  uint64_t index_seeks = 0;
  uint64_t index_cached_lists = 0;
  uint64_t index_cache_bytes = 0;
  uint64_t index_cache_hits = 0;
  uint64_t index_cache_misses = 0;
  // RocksDB reads the sequencer made under its lock: a commit reads what it needs before it takes
  // the lock, and reads again under it only when a checkpoint landed in between.
  uint64_t sequencer_store_reads = 0;

  // Distributions (walcache/histogram.h; docs/metrics.md), latencies in nanoseconds.
  // Commit() of a transaction that wrote, from the call to its return (stall, sequencer, WAL,
  // visibility), by durability; a conflict, an error or a transaction that wrote nothing is not
  // counted.
  Histogram commit_sync_ns;
  Histogram commit_buffered_ns;
  Histogram get_memory_ns;          // Get() answered by memory (a hit, or a key known absent)
  Histogram get_read_through_ns;    // Get() that read RocksDB (found there or not)
  Histogram checkpoint_ns;          // checkpoints that succeeded, background ones included
  Histogram wal_fsync_ns;           // every fdatasync of the WAL's records
  Histogram wal_records_per_fsync;  // records each of those made durable (the group size)
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

class WALCACHE_EXPORT Cache {
 public:
  // Opens the cache in `dir`, recovering whatever a crash left. Where `dir` holds no cache, one
  // is made there, `dir` and its missing parents included (Options::create_if_missing; off:
  // NotFound for a missing `dir`, InvalidArgument for one without a cache). Busy if another
  // Cache (in this process or another) has `dir` open, naming the holder. InvalidArgument under
  // Options::error_if_exists if `dir` holds a cache. Corruption if the WAL is damaged before its
  // end (walcache repair is the way out); IOError if a file cannot be read or created; NotFound
  // for a missing `dir` under Options::read_only.
  static Result<std::unique_ptr<Cache>> Open(const std::string& dir, const Options& options);
  // Close(), unless it was called; a failure it cannot return goes to Options::log.
  ~Cache();

  // Waits for Commit() calls running on other threads, stops the background work, checkpoints
  // (unless read-only or failed), closes the WAL and RocksDB and releases the directory (another
  // Open may take it). Returns the first error of those steps: the final checkpoint's (the WAL
  // still holds what it did not store, and the next open replays it), the WAL's close, RocksDB's
  // close, or the failure that had stopped writes (see health()). Closes even when it fails.
  // Called again, it does nothing and returns the same status. Not concurrently with the
  // Cache's other methods (as with the destructor); Transactions and KeyLocks on other threads
  // are fine.
  // After it: Get, Scan, Checkpoint, Compact, health and the one-op writes return Aborted; a
  // Transaction's Commit returns Aborted; Lock returns a KeyLock that holds nothing; Stats and
  // MetricsText show the counters as they were at the close; LastRecovery is unchanged. The
  // destructor then does nothing more.
  Status Close();

  // The live entry of `key`. NotFound if absent or expired (an empty key is NotFound too);
  // IOError or Corruption if reading it through from RocksDB failed.
  Result<Entry> Get(std::string_view key);
  // Get(key); on a miss, runs `loader` and stores what it returns with the sources it read
  // (LoadContext::Get) as related keys, committed with ExpectAbsent(key) and an Expect of each
  // source: if a source changed, or the key was written, while the loader ran, nothing is
  // stored and the load runs again (up to options.max_loads times; the last value is then
  // returned unstored); a key written meanwhile is returned as a hit. Single flight: of the
  // callers in this process missing on the same key at once, one runs the loader and the others
  // wait for and share its outcome, errors included — but only while it is current: a waiter
  // whose load stored nothing, or whose entry is gone by the time the load ends (a write may
  // have come between the load's start and the waiter's miss), runs the flight once more, so no
  // GetOrLoad returns state older than a write acknowledged before it began. Errors: the
  // loader's error (not cached);
  // Get's and Commit's errors; InvalidArgument for an empty key or max_loads < 1, and for a
  // loader that calls GetOrLoad of the same key on its own thread (it would wait for itself).
  Result<Loaded> GetOrLoad(std::string_view key, const Loader& loader, LoadOptions options = {});

  // One-op transactions under the default durability, with Transaction::Commit()'s errors.
  // Put: the new updateId. Delete: a new updateId even if the key was absent (a tombstone is
  // written). Touch: a new updateId if the key was live; if it was absent or expired, OK with
  // the newest visible updateId and nothing written (call Get to tell the two apart).
  // An empty key is InvalidArgument for all three.
  Result<uint64_t> Put(std::string_view key, std::string_view value, PutOptions options = {});
  Result<uint64_t> Delete(std::string_view key);
  Result<uint64_t> Touch(std::string_view key, uint64_t ttl_ms);

  // A new, empty transaction on this cache. Never fails; errors come from its Commit().
  Transaction Begin();
  // Blocks until this thread holds `key`'s lock (any key, present or not). Not reentrant: a
  // thread that locks a key it holds deadlocks.
  KeyLock Lock(std::string_view key);

  // Visits the live entries whose keys start with `prefix`, in key order, until `visit` returns
  // false (memory and RocksDB merged). The scan reads a snapshot of its own (GetSnapshot): it
  // shows exactly the transactions visible when it started, each whole, and decides expiry at
  // that instant. The matching entries are collected first and visited after, so `visit` may
  // call the cache, and memory grows with the matches. IOError or Corruption from RocksDB.
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view key, const Entry& e)>& visit);

  // A read snapshot at the newest visible updateId (include/walcache/snapshot.h says what it
  // guarantees and what holding one costs). IOError if RocksDB cannot be read.
  Result<Snapshot> GetSnapshot();
  // The entries of `keys` as of one updateId (a snapshot for the call's length), in order;
  // nullopt for a key absent or expired. IOError or Corruption from RocksDB.
  Result<std::vector<std::optional<Entry>>> MultiGet(const std::vector<std::string_view>& keys);

  // Writes every change up to the newest durable transaction into RocksDB (one synced atomic
  // write) and deletes the WAL segments that checkpoint covers. Aborted if read-only or failed;
  // IOError if RocksDB's write failed (the WAL keeps everything; a later checkpoint retries).
  Status Checkpoint();
  // Checkpoint(), then a full RocksDB compaction (expired entries dropped). Blocks until done.
  // Checkpoint()'s errors.
  Status Compact();

  // The change feed (docs/change-feed.md): the durable transactions after `from_update_id`, in
  // updateId order with no hole, at most `max_txns` of them, each with every effect its WAL
  // record holds (cascaded invalidations included). Only transactions that are visible and
  // fdatasynced appear, so no crash or power loss takes back one the feed showed; a visible
  // buffered transaction not yet synced is synced by this call (one fdatasync; none when
  // caught up). Read from the WAL, so a position survives restarts while the WAL holds it;
  // retention (Options::wal_retention_bytes, SetFeedPosition) keeps segments that checkpoints
  // would delete. When the transactions after from_update_id can no longer be told, the result
  // is OK with ChangeBatch::gap set and no txns: never a silent skip. `history`: the
  // ChangeBatch::history of the call that returned from_update_id (0: unknown, not checked);
  // after a repair cut the history, a position past the cut is a gap. Cost: a call from where a
  // recent one ended reads only what it returns; any other reads the WAL from the start of the
  // segment holding from_update_id + 1 (memory: the batch returned). InvalidArgument if
  // max_txns is 0; Corruption or IOError if the WAL cannot be read; the writer's error if the
  // sync fails.
  Result<ChangeBatch> Changes(uint64_t from_update_id, size_t max_txns = 1000,
                              uint64_t history = 0);
  // Registers, or moves, the named consumer's position: it has handled every transaction up to
  // `update_id`, and checkpoints keep the WAL segments holding anything after it, across
  // restarts and the CLI tools (DIR/FEED, replaced and synced before this returns). Disk cost:
  // the WAL from that position on, unbounded while the consumer lags; RemoveFeedConsumer ends
  // it. `consumer`: 1 to 64 of [A-Za-z0-9_.-]. InvalidArgument for another name or an update_id
  // above the newest visible one; Aborted if read-only; IOError if DIR/FEED cannot be written.
  Status SetFeedPosition(std::string_view consumer, uint64_t update_id);
  // Forgets the consumer; its segments go at the next checkpoint. NotFound if not registered.
  Status RemoveFeedConsumer(std::string_view consumer);
  // The registered consumers and their positions, by name.
  std::vector<std::pair<std::string, uint64_t>> FeedConsumers() const;

  CacheStats Stats() const;
  // Every counter, gauge and histogram of Stats() in the Prometheus text exposition format 0.0.4
  // (# HELP, # TYPE and sample lines; latencies in seconds), for a /metrics endpoint. The names
  // are listed in docs/metrics.md.
  std::string MetricsText() const;
  RecoveryInfo LastRecovery() const;
  // OK, or the error that stopped writes (an I/O error in the WAL); reopen to recover.
  Status health() const;

 private:
  friend class engine::CacheOpener;  // opens over wrapped file systems (tests, the checker)
  explicit Cache(std::unique_ptr<engine::CacheImpl> impl);
  std::unique_ptr<engine::CacheImpl> impl_;  // null once closed
  // Shared with every Transaction and KeyLock: says whether impl_ still exists.
  std::shared_ptr<engine::Lifeline> life_;
  // Once closed: what Close returned, and the counters at the close.
  Status close_status_;
  CacheStats closed_stats_;
  RecoveryInfo closed_recovery_;
};

}  // namespace walcache

#endif  // WALCACHE_CACHE_H_
