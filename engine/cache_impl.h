// CacheImpl: the engine behind walcache::Cache (include/walcache/cache.h).
//
// Commit path (engine/commit.cc): under the commit mutex (the sequencer) a transaction is
// validated against the newest state of all (expectations, related updateIds), its cascading
// invalidations and TTL clamps are computed into one wal::Batch, the batch is queued in the WAL
// (which assigns the seq), and its versions are added to the MemTable, still invisible. Outside
// the mutex the committer waits for its durability, marks the seq done, and waits until the
// visible watermark reaches it. Readers only see versions at or below the watermark.
//
// Checkpoint (engine/checkpointer.cc): pins S = the watermark, syncs the WAL (so S is durable,
// trap 1), writes every dirty key's newest version at or below S and the reverse-index changes
// with checkpoint_seq = S as one synced RocksDB batch (trap 3), then deletes the WAL segments
// that S covers (trap 2).
//
// Open (engine/open.cc): lock the directory, open RocksDB, replay the WAL after its checkpoint
// into the MemTable (this class is the replay sink), repair a torn tail, start the WAL writer,
// prewarm (engine/prewarm.cc), start the maintenance thread.
//
// Maintenance (engine/maintenance.cc): one background thread runs checkpoints when a trigger
// fires (dirty bytes, WAL bytes, interval; commits wake it) and sweeps expired entries out of
// memory. A commit that finds memory full of dirty entries waits for a checkpoint (a stall).
//
// Thread-safety: thread-safe.
#ifndef WALCACHE_ENGINE_CACHE_IMPL_H_
#define WALCACHE_ENGINE_CACHE_IMPL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/batch_effects.h"
#include "engine/key_locks.h"
#include "engine/mem_table.h"
#include "engine/rocks_store.h"
#include "engine/txn_op.h"
#include "engine/txn_overlay.h"
#include "engine/visibility.h"
#include "recovery/replay.h"
#include "util/file_system.h"
#include "wal/writer.h"
#include "walcache/cache.h"

namespace walcache::engine {

class CacheImpl final : public recovery::ReplaySink {
 public:
  static Result<std::unique_ptr<CacheImpl>> Open(const std::string& dir, const Options& options);
  ~CacheImpl() override;

  Result<Entry> Get(std::string_view key);
  Result<uint64_t> Commit(const std::vector<Transaction::Op>& ops, Durability durability);
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, const Entry&)>& visit);
  Status Checkpoint();
  Status Compact();
  KeyLocks& key_locks() { return key_locks_; }

  CacheStats Stats() const;
  RecoveryInfo LastRecovery() const { return recovery_; }
  Status health() const;
  const Options& options() const { return options_; }

  // recovery::ReplaySink: applies a logged transaction during Open.
  Status Apply(uint64_t seq, const wal::Batch& batch) override;

 private:
  CacheImpl(std::string dir, const Options& options);
  Status OpenImpl();
  // Loads up to Options::prewarm_bytes of the most recently updated stored entries.
  Status Prewarm();
  Status ValidateOps(const std::vector<Transaction::Op>& ops) const;
  // The clock (Options::clock_ms, else the system's), never going back within a process nor
  // below the expiry horizon the store was opened with (see clock_floor_).
  uint64_t NowMs() const;
  // ExpiredAt(e, NowMs()), reading the clock only for entries with an expiry.
  bool Expired(const Entry& e) const { return e.expires_at != 0 && e.expires_at <= NowMs(); }
  std::string WalDir() const;

  // The newest state of `key`, pending transactions included, reading through to RocksDB.
  // Entries expired at `now` are absent. REQUIRES commit_mu_ (or Open's single thread).
  Result<std::optional<Entry>> Latest(std::string_view key, uint64_t now);
  // Latest() at the transaction's instant, seen through its own overlay first.
  Result<std::optional<Entry>> Current(const TxnOverlay& ov, const std::string& key);
  // Keys that may have been derived from `source`: the reverse index of installed entries and
  // the edges the transaction's own pending entries add (a superset: callers check each entry).
  std::vector<std::string> DependentCandidates(const TxnOverlay& ov, const std::string& source);
  // Forgets the edge source -> dependent (it was found stale).
  void DropEdge(const std::string& source, const std::string& dependent);
  // Walks, breadth first from `key`, the live entries derived from it, installed or pending in
  // `ov`, each once; `step` may change the overlay and says whether to walk on from that entry.
  Status WalkDerived(const std::string& key, TxnOverlay* ov,
                     const std::function<bool(const std::string& dependent, Entry* e)>& step);
  // Invalidates, transitively, every entry derived from `key`, into `ov` and `batch`.
  Status Cascade(const std::string& key, TxnOverlay* ov, wal::Batch* batch, uint64_t* count);
  // Clamps the expiry of entries derived from `key` to `expires_at`, transitively.
  Status ClampDependents(const std::string& key, uint64_t expires_at, TxnOverlay* ov,
                         wal::Batch* batch);
  // Adds the transaction's versions at `seq` to memory and their reverse-index edges.
  void Install(const Effects& ov, uint64_t seq);
  // Reads what readers may see of `key` (memory, else RocksDB).
  Result<std::optional<Entry>> Visible(std::string_view key);
  void Fail(const Status& s);
  // Drops from sequenced_at_ what is at or below `visible`; returns the expiry horizon of a
  // checkpoint at `visible` (rocks_store.h): a time no transaction after it was or will be
  // sequenced before — the instant of the oldest one in flight, else now. Instants grow with
  // seqs: NowMs never goes back, and the sequencer reads it in seq order. REQUIRES commit_mu_.
  uint64_t HorizonAt(uint64_t visible);

  // Maintenance (engine/maintenance.cc).
  void StartMaintenance();
  void StopMaintenance();
  void MaintenanceLoop();
  // Why a checkpoint is due now, or empty.
  const char* CheckpointTrigger() const;
  // One checkpoint, under checkpoint_mu_, on a healthy cache (engine/checkpointer.cc).
  Status RunCheckpoint();
  // Records a checkpoint's outcome in Stats and in DIR/CHECKPOINT_FAILED (for the tools).
  void NoteCheckpoint(const Status& s);
  // Wakes the maintenance thread to checkpoint.
  void RequestCheckpoint();
  // After a commit was sequenced: wakes the maintenance thread if a size trigger fired.
  void AfterCommit(size_t wal_bytes);
  // Before a commit: while dirty entries fill the memory budget, waits for checkpoints.
  void StallWhileMemoryFull();
  size_t DirtyTriggerBytes() const;

  const std::string dir_;
  const Options options_;
  FileSystem* const fs_;

  std::unique_ptr<FileLock> dir_lock_;
  std::unique_ptr<RocksStore> store_;
  std::unique_ptr<VisibilityTracker> tracker_;
  std::unique_ptr<MemTable> mem_;
  std::unique_ptr<wal::Writer> writer_;
  KeyLocks key_locks_;
  RecoveryInfo recovery_;

  std::mutex commit_mu_;                  // the sequencer
  uint64_t checkpoint_pin_ = UINT64_MAX;  // seq of a running checkpoint (guarded by commit_mu_)
  // The (seq, instant) of the transactions sequenced but not yet seen visible, oldest first
  // (guarded by commit_mu_): what a checkpoint's expiry horizon is taken from (HorizonAt).
  std::deque<std::pair<uint64_t, uint64_t>> sequenced_at_;
  // NowMs()'s floor: the latest time it returned; at open, the store's expiry horizon.
  mutable std::atomic<uint64_t> clock_floor_{0};
  // The reverse index, whole, in memory: source -> keys that may derive from it. A superset:
  // loaded from RocksDB at open, extended when a derived entry is sequenced, and pruned when a
  // walk finds an edge its dependent no longer has (so nothing on the commit path reads
  // RocksDB's copy, which checkpoints keep for the next open).
  std::mutex edges_mu_;
  std::unordered_map<std::string, std::set<std::string>> edges_;
  std::mutex checkpoint_mu_;  // one checkpoint at a time

  // Maintenance state, guarded by maint_mu_.
  std::mutex maint_mu_;
  std::condition_variable maint_cv_;         // wakes the thread: a request, or stop
  std::condition_variable checkpointed_cv_;  // a maintenance pass ended
  bool maint_stop_ = false;
  bool checkpoint_requested_ = false;
  uint64_t maint_passes_ = 0;
  std::thread maint_thread_;
  // Trigger inputs: WAL bytes logged (the sequencer adds), and at the last checkpoint.
  std::atomic<uint64_t> wal_bytes_{0}, wal_bytes_at_checkpoint_{0};
  std::atomic<int64_t> last_checkpoint_ns_{0};  // steady clock
  std::atomic<bool> wakeup_pending_{false};

  mutable std::mutex status_mu_;
  Status failed_;
  // Checkpoint outcomes (guarded by status_mu_): failures so far, and the last one's error while
  // checkpoints keep failing ("" once one succeeds).
  uint64_t checkpoint_failures_ = 0;
  std::string checkpoint_error_;
  bool checkpoint_file_checked_ = false;  // a checkpoint of this process succeeded

  std::atomic<uint64_t> commits_{0}, conflicts_{0}, invalidations_{0}, mismatches_{0},
      checkpoints_{0}, segments_deleted_{0}, write_stalls_{0};
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_CACHE_IMPL_H_
