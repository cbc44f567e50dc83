// RocksStore: the full data set of a cache in RocksDB, as of exactly one sequence number (the
// checkpoint sequence), and the only way the engine changes it: a Checkpoint applied as one
// synced WriteBatch that carries the entries, the reverse-index changes and the new checkpoint
// sequence together (docs/design.md §4). One column family, so a checkpoint can never be half
// applied (trap 3); RocksDB's own WAL on and WriteOptions::sync, so it is durable when Apply
// returns. Layout: docs/storage-format.md.
//
// The caller keeps the traps that need the WAL: only state as of a sequence that is already
// durable in walcache's WAL may be checkpointed (trap 1), and WAL segments go only after the
// checkpoint that covers them was applied (trap 2).
//
// Expired entries are dropped by a compaction filter (expiry_filter.h) as RocksDB compacts, up to
// the expiry horizon that each checkpoint stores with its sequence.
//
// Thread-safety: thread-safe (RocksDB is); Apply calls must not overlap each other. After a
// failed Apply, the next one may reopen the DB, which waits for readers in flight.
#ifndef WALCACHE_ENGINE_ROCKS_STORE_H_
#define WALCACHE_ENGINE_ROCKS_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/entry.h"
#include "walcache/result.h"

namespace walcache::engine {

class ExpiryFilter;

struct StoreOptions {
  bool create_if_missing = true;
  bool read_only = false;
  size_t block_cache_bytes = 64 << 20;
  size_t write_buffer_bytes = 64 << 20;  // RocksDB's write_buffer_size
  // The clock, in milliseconds since the Unix epoch; read only by the planted bug
  // expiry-filter-uses-clock (the filter drops by the stored expiry horizon).
  std::function<uint64_t()> now_ms;
  // The file system RocksDB's files go through (a test's or the checker's layer over the real
  // one); null: RocksDB's default.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

class RocksStore {
 public:
  // Changes to apply atomically as one checkpoint.
  class Checkpoint {
   public:
    void Put(std::string_view key, const Entry& e);
    void Delete(std::string_view key);
    // Reverse index: `dependent` was derived from `source`.
    // Also marks `source` (once per checkpoint) as having a stored dependent.
    void AddDependent(std::string_view source, std::string_view dependent);
    void RemoveDependent(std::string_view source, std::string_view dependent);
    size_t ops() const { return ops_; }

   private:
    friend class RocksStore;
    rocksdb::WriteBatch batch_;
    std::set<std::string, std::less<>> marked_;  // sources marked in this batch
    size_t ops_ = 0;
  };

  // Opens (or creates) the store at `path`. NotSupported for a store of another format version;
  // Corruption naming CURRENT if it is missing from a store that holds data (never a new store
  // over the old one); IOError naming the path (RocksDB's message included) for anything else.
  static Result<std::unique_ptr<RocksStore>> Open(const std::string& path,
                                                  const StoreOptions& options);
  ~RocksStore();
  // Closes RocksDB now: OK, or its error. Later calls find the store closed (Closed()'s error).
  Status Close();

  // The sequence the stored state is exactly as of; 0 for a new store.
  uint64_t checkpoint_seq() const { return checkpoint_seq_.load(std::memory_order_acquire); }

  // No WAL record after checkpoint_seq() was sequenced before this time (ms since the Unix
  // epoch; 0 if unknown): the expiry filter drops only entries expired by then, and the engine's
  // clock never runs below it. Stored with the checkpoint, raised (never lowered) by Apply.
  uint64_t expiry_horizon() const { return expiry_horizon_.load(std::memory_order_acquire); }

  // The stored entry of `key` (expired ones included: expiry is the caller's decision).
  Result<std::optional<Entry>> Get(std::string_view key) const;
  // The keys recorded as derived from `source`, in key order. A source without a marker (it
  // never had a stored dependent) costs a bloom-filtered point read and no seek; in a version-1
  // store opened read-only (no markers yet), every call seeks.
  Result<std::vector<std::string>> Dependents(std::string_view source) const;
  // Prefix seeks Dependents has made (for tests and Stats).
  uint64_t dependent_seeks() const { return dependent_seeks_.load(std::memory_order_relaxed); }
  // The source markers stored (Dependents); for the tools' key estimate.
  Result<uint64_t> CountSourceMarkers() const;
  // Visits every reverse-index edge (source, dependent).
  Status ForEachDependent(
      const std::function<void(std::string_view source, std::string_view dependent)>& visit) const;
  // Visits the entries whose keys start with `prefix`, in key order, until `visit` returns false.
  // A stored entry that does not decode ends the scan with Corruption naming its key, unless
  // `on_damaged` is given: then it is told the key and the error, and the scan goes on.
  using OnDamaged = std::function<void(std::string_view key, const Status& error)>;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view key, const Entry& e)>& visit,
              const OnDamaged& on_damaged = nullptr) const;

  // Applies `cp` and sets the checkpoint sequence to `seq` and the expiry horizon to
  // `expiry_horizon_ms` (if later than the current one), atomically and durably. The caller
  // guarantees that no WAL record after `seq` was sequenced before `expiry_horizon_ms`.
  // REQUIRES: seq >= checkpoint_seq(). InvalidArgument otherwise; Aborted when read-only.
  // After a failed write, the next call first asks RocksDB to resume (its error stops writes);
  // the failed write may or may not have landed, which is harmless: the WAL still covers it.
  Status Apply(Checkpoint cp, uint64_t seq, uint64_t expiry_horizon_ms);

  // For a WAL that does not continue this store's checkpoint (records after checkpoint_seq() are
  // missing): names the logs RocksDB recovered its newest checkpoints from when it opened —
  // RocksDB drops a damaged log's records without an error, so it cannot name them itself — or
  // says it found none. One sentence, for an error message.
  std::string RecoveredLogsHint() const;

  // A RocksDB integer property (e.g. "rocksdb.total-sst-files-size"); 0 if unavailable.
  uint64_t IntProperty(const std::string& name) const;

  // Compacts the whole key range (expired entries dropped by the filter).
  Status CompactAll();

  // Read views (engine/rocks_view.cc): a RocksDB snapshot of the store, and the checkpoint
  // sequence it holds. A view sees exactly one checkpoint's state for as long as it is open,
  // however many checkpoints are applied meanwhile (RocksDB keeps the overwritten versions, on
  // disk, until the view closes). Views end when the store is reopened after a write error
  // (Recover): reads in a view that ended return Aborted. Every view must be closed; the
  // destructor closes those left.
  struct View {
    uint64_t id = 0;
    uint64_t checkpoint_seq = 0;
  };
  Result<View> OpenView();
  void CloseView(uint64_t id);
  // Get and Scan as above, in view `id`.
  Result<std::optional<Entry>> GetInView(uint64_t id, std::string_view key) const;
  Status ScanInView(uint64_t id, std::string_view prefix,
                    const std::function<bool(std::string_view key, const Entry& e)>& visit) const;

 private:
  RocksStore() = default;

  Status ReadCheckpointSeq();
  // Reads the format record: initialises a new store, upgrades a version-1 one (writable), or
  // fails on an unknown version.
  Status CheckFormat(bool read_only);
  // Writes the marker of every source in the stored index, then format 2.
  Status AddSourceMarkers();
  // Get and Scan with `ro`; REQUIRES db_mu_ held (shared) and db_ not null.
  Result<std::optional<Entry>> GetWith(const rocksdb::ReadOptions& ro, std::string_view key) const;
  Status ScanWith(const rocksdb::ReadOptions& ro, std::string_view prefix,
                  const std::function<bool(std::string_view key, const Entry& e)>& visit,
                  const OnDamaged& on_damaged) const;
  // ReadOptions reading view `id`, or Aborted if it ended; REQUIRES db_mu_ held.
  Result<rocksdb::ReadOptions> ViewReadOptions(uint64_t id) const;
  // Releases every open view's snapshot; REQUIRES db_mu_ held exclusively (or no readers left).
  void EndViews();
  // Clears RocksDB's background error after a failed write: Resume(), else a reopen.
  Status Recover();
  Status Closed() const;

  std::unique_ptr<ExpiryFilter> filter_;  // outlives db_, which points to it
  std::unique_ptr<rocksdb::Env> env_;     // outlives db_, which points to it
  rocksdb::Options opts_;                 // for a reopen
  // Readers hold it shared while they use db_; Recover() holds it exclusively to replace db_
  // (null if the reopen failed).
  mutable std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::string path_;
  std::vector<std::string> logs_at_open_;  // RocksDB's *.log files before it opened, sorted
  bool read_only_ = false;
  bool markers_ = true;  // every source with a stored dependent has its marker (format 2)
  mutable std::atomic<uint64_t> dependent_seeks_{0};
  std::atomic<uint64_t> checkpoint_seq_{0};  // written by Apply, read by Stats at any time
  std::atomic<uint64_t> expiry_horizon_{0};  // written by Apply, read by the filter
  // Open views: id -> RocksDB snapshot of db_. Guarded by views_mu_ (taken under db_mu_).
  mutable std::mutex views_mu_;
  std::map<uint64_t, const rocksdb::Snapshot*> views_;
  uint64_t next_view_ = 1;
  // A write failed: RocksDB stopped writes (its background error) until Resume() succeeds.
  bool needs_resume_ = false;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_ROCKS_STORE_H_
