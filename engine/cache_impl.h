// CacheImpl: the engine behind walcache::Cache (include/walcache/cache.h).
//
// Commit path (engine/commit.cc): first, outside every lock, a dry run of the plan reads what
// the transaction needs from RocksDB (engine/store_prefetch.h); then under the commit mutex (the
// sequencer) the commit planner
// (engine/commit_plan.h) validates a transaction against the newest state of all (expectations,
// related updateIds) and computes its cascading invalidations and TTL clamps into one
// wal::Batch; the batch is queued in the WAL
// (which assigns the seq), and its versions are added to the MemTable, still invisible. Outside
// the mutex the committer waits for its durability, marks the seq done, and waits until the
// visible watermark reaches it. Readers only see versions at or below the watermark.
//
// Checkpoint (engine/checkpointer.cc): pins S = the watermark, syncs the WAL (so S is durable,
// trap 1), writes every dirty key's newest version at or below S and the reverse-index changes
// with checkpoint_seq = S as one synced RocksDB batch (trap 3), then deletes the WAL segments
// that S covers (trap 2).
//
// Reads (engine/read.cc): memory, else RocksDB through the one read-through, cached.
// Snapshots and Scan (engine/snapshot_read.cc): memory's versions at a fixed seq over a RocksDB
// view of an earlier checkpoint (engine/snapshots.h).
//
// Open (engine/open.cc): lock the directory, open RocksDB, replay the WAL after its checkpoint
// into the MemTable (this class is the replay sink: engine/replay_sink.cc), repair a torn tail,
// start the WAL writer, prewarm (engine/prewarm.cc), start the maintenance thread.
//
// Change feed (engine/change_feed.cc): Changes reads the WAL (wal/changes.h) up to the durable
// watermark (visible and fdatasynced; it syncs first if need be) under a pin of FeedRetention
// (feed_retention.h), through which checkpoints delete segments, keeping those the pins, the
// registered consumers and the retention bytes need.
//
// Maintenance (engine/maintenance.cc): one background thread runs checkpoints when a trigger
// fires (dirty bytes, WAL bytes, interval; commits wake it) and sweeps expired entries out of
// memory. A commit that finds memory full of dirty entries waits for a checkpoint (a stall).
//
// Thread-safety: thread-safe. Locks, always taken in this order (a thread holding one may take
// only those below it); the members each guards are marked GUARDED_BY, and functions that need
// one held REQUIRES, so that clang's -Wthread-safety checks them (the `thread-safety` preset):
//   checkpoint_mu_   one checkpoint at a time; held across a whole checkpoint
//   commit_mu_       the sequencer: validation, seq assignment, the pin, installing versions
//   maint_mu_        the maintenance thread's state (RequestCheckpoint under commit_mu_)
//   the snapshot registry's lock (snapshots.h): under commit_mu_ for the horizon's clamp;
//                    it takes RocksStore's and MemTable's locks while a snapshot opens
//   FeedRetention's  below checkpoint_mu_, never held with commit_mu_ or maint_mu_
//   feed_hints_mu_   a leaf: held only to look up or store a feed position
// Below them all: the reverse index's and the health's locks (reverse_index.h, health.h),
// MemTable's shard locks, VisibilityTracker's and the WAL writer's own locks, and RocksDB (which
// a commit reads before it takes commit_mu_; the sequencer reads it under commit_mu_ only when a
// checkpoint landed in between: engine/store_prefetch.h). No lock is held while waiting on
// a condition variable but the one it is bound to.
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
#include "engine/feed_retention.h"
#include "engine/health.h"
#include "engine/key_locks.h"
#include "engine/mem_table.h"
#include "engine/reverse_index.h"
#include "engine/rocks_store.h"
#include "engine/seams.h"
#include "engine/single_flight.h"
#include "engine/snapshots.h"
#include "engine/store_prefetch.h"
#include "engine/txn_op.h"
#include "engine/visibility.h"
#include "recovery/replay.h"
#include "util/file_system.h"
#include "util/histogram.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "util/tick_clock.h"
#include "wal/reader.h"
#include "wal/writer.h"
#include "walcache/cache.h"

namespace walcache::engine {

class CacheImpl final : public recovery::ReplaySink {
 public:
  static Result<std::unique_ptr<CacheImpl>> Open(const std::string& dir, const Options& options,
                                                 const Seams& seams);
  ~CacheImpl() override;

  Result<Entry> Get(std::string_view key);
  Result<uint64_t> Commit(const std::vector<Transaction::Op>& ops, Durability durability)
      EXCLUDES(commit_mu_, checkpoint_mu_);
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, const Entry&)>& visit);
  // Read snapshots (engine/snapshot_read.cc). OpenSnapshot fills `pin` and returns the id that
  // CloseSnapshot takes; every opened snapshot must be closed before the CacheImpl goes.
  Result<uint64_t> OpenSnapshot(SnapshotPin* pin);
  void CloseSnapshot(uint64_t id);
  // The live entry of `key` in the snapshot (empty if absent or expired at its instant).
  Result<std::optional<Entry>> SnapshotGet(const SnapshotPin& pin, std::string_view key);
  Status SnapshotScan(const SnapshotPin& pin, std::string_view prefix,
                      const std::function<bool(std::string_view, const Entry&)>& visit);
  Status Checkpoint() EXCLUDES(checkpoint_mu_, commit_mu_);
  Status Compact() EXCLUDES(checkpoint_mu_, commit_mu_);
  KeyLocks& key_locks() { return key_locks_; }
  SingleFlight& flights() { return flights_; }  // Cache::GetOrLoad's loads

  // The change feed (cache.h, docs/change-feed.md; engine/change_feed.cc).
  Result<ChangeBatch> Changes(uint64_t from, size_t max, uint64_t history);
  Status SetFeedPosition(std::string_view consumer, uint64_t update_id);
  Status RemoveFeedConsumer(std::string_view consumer);
  std::vector<std::pair<std::string, uint64_t>> FeedConsumers() const { return feed_->Consumers(); }

  CacheStats Stats() const;
  RecoveryInfo LastRecovery() const { return recovery_; }
  // Stops the maintenance thread, checkpoints (unless read-only or failed), closes the WAL and
  // RocksDB and releases the directory: the first error of those steps, or the failure that
  // stopped writes. `final_stats` (if given) receives Stats() as of the close, taken after the
  // WAL closed and before RocksDB did. Called once (Cache::Close guards it); the destructor
  // calls it if nobody did. REQUIRES: no other call is running or follows.
  Status Close(CacheStats* final_stats);
  Status health() const;
  const Options& options() const { return options_; }
  const std::string& dir() const { return dir_; }

  // recovery::ReplaySink: applies a logged transaction during Open.
  Status Apply(uint64_t seq, const wal::Batch& batch) override EXCLUDES(commit_mu_);

 private:
  CacheImpl(std::string dir, const Options& options, const Seams& seams);
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

  // Which of memory's versions a read takes: what readers may see (at or below the visible
  // watermark), or the newest of all, pending transactions included (for the sequencer).
  enum class View { kVisible, kLatest };
  // The one read-through (engine/read.cc): `key` as memory shows it in `view`, else RocksDB's
  // copy (expired ones included), which is cached when `cache` says so and it is live — unless
  // an eviction or a rewrite overtook the read (MemTable::Fill), and then it reads again.
  // `from_store`, if given, is set when the answer came from RocksDB (memory did not know the
  // key), for the Get histograms.
  Result<std::optional<Entry>> ReadThrough(std::string_view key, View view, bool cache = true,
                                           bool* from_store = nullptr);
  // Get without its timing.
  Result<Entry> GetUntimed(std::string_view key, bool* from_store);
  // ReadThrough(kLatest) for the commit planner: entries expired at `now` are absent.
  Result<std::optional<Entry>> Latest(std::string_view key, uint64_t now) REQUIRES(commit_mu_);
  // Before the sequencer (engine/store_prefetch.h): a dry run of the plan that reads what the
  // real one will read from RocksDB into `pre`.
  void Prefetch(const std::vector<Transaction::Op>& ops, uint64_t now, StorePrefetch* pre)
      EXCLUDES(commit_mu_);
  // The sequencer's reads: memory, else `pre` while it is current, else RocksDB.
  Result<std::optional<Entry>> LatestPrefetched(const std::string& key, uint64_t now,
                                                const StorePrefetch& pre) REQUIRES(commit_mu_);
  Result<std::vector<std::string>> DependentsPrefetched(const std::string& source,
                                                        const StorePrefetch& pre)
      REQUIRES(commit_mu_);
  bool PrefetchCurrent(const StorePrefetch& pre) const;         // for its entries
  bool PrefetchedEdgesCurrent(const StorePrefetch& pre) const;  // for its stored edges
  // Adds the transaction's versions at `seq` to memory and their reverse-index edges; the
  // entries are moved out of `effects`.
  void Install(Effects&& effects, uint64_t seq) REQUIRES(commit_mu_);
  // Install() without the sequencer: only the planted bug reorder-apply calls it, and the
  // thread-safety analysis is off for it (it is the defect the analysis reports).
  void InstallOutsideTheSequencer(Effects&& effects, uint64_t seq) NO_THREAD_SAFETY_ANALYSIS;
  void Fail(const Status& s);
  // Drops from sequenced_at_ what is at or below `visible`; returns the expiry horizon of a
  // checkpoint at `visible` (rocks_store.h): a time no transaction after it was or will be
  // sequenced before — the instant of the oldest one in flight, else now. Instants grow with
  // seqs: NowMs never goes back, and the sequencer reads it in seq order.
  uint64_t HorizonAt(uint64_t visible) REQUIRES(commit_mu_);

  // Maintenance (engine/maintenance.cc).
  void StartMaintenance();
  void StopMaintenance() EXCLUDES(maint_mu_);
  void MaintenanceLoop() EXCLUDES(maint_mu_);
  // Why a checkpoint is due now, or empty.
  const char* CheckpointTrigger() const;
  // One checkpoint, under checkpoint_mu_, on a healthy cache (engine/checkpointer.cc).
  Status RunCheckpoint() REQUIRES(checkpoint_mu_) EXCLUDES(commit_mu_);
  // Records a checkpoint's outcome in Stats and in DIR/CHECKPOINT_FAILED (for the tools).
  void NoteCheckpoint(const Status& s);
  // Wakes the maintenance thread to checkpoint.
  void RequestCheckpoint() EXCLUDES(maint_mu_);
  // After a commit was sequenced: wakes the maintenance thread if a size trigger fired.
  void AfterCommit(size_t wal_bytes) EXCLUDES(maint_mu_);
  // Before a commit: while dirty entries fill the memory budget, waits for checkpoints.
  void StallWhileMemoryFull() EXCLUDES(maint_mu_, commit_mu_);
  size_t DirtyTriggerBytes() const;

  const std::string dir_;
  const Options options_;
  FileSystem* const fs_;
  const std::shared_ptr<rocksdb::FileSystem> rocks_fs_;  // null: RocksDB's default

  std::unique_ptr<FileLock> dir_lock_;
  std::unique_ptr<FeedRetention> feed_;  // DIR/FEED and the feed's pins; its own lock
  // Where recent Changes calls ended, by the seq of the record there: a call from there starts
  // at that record instead of at its segment's start. A few, the newest positions kept.
  Mutex feed_hints_mu_;
  std::map<uint64_t, wal::ReadPosition> feed_hints_ GUARDED_BY(feed_hints_mu_);
  std::unique_ptr<RocksStore> store_;
  std::unique_ptr<VisibilityTracker> tracker_;
  std::unique_ptr<MemTable> mem_;
  std::unique_ptr<SnapshotRegistry> snapshots_;  // over mem_
  std::unique_ptr<wal::Writer> writer_;
  KeyLocks key_locks_;
  SingleFlight flights_;
  RecoveryInfo recovery_;

  Mutex commit_mu_;                                              // the sequencer
  uint64_t checkpoint_pin_ GUARDED_BY(commit_mu_) = UINT64_MAX;  // seq of a running checkpoint
  // The (seq, instant) of the transactions sequenced but not yet seen visible, oldest first:
  // what a checkpoint's expiry horizon is taken from (HorizonAt).
  std::deque<std::pair<uint64_t, uint64_t>> sequenced_at_ GUARDED_BY(commit_mu_);
  // NowMs()'s floor: the latest time it returned; at open, the store's expiry horizon.
  mutable std::atomic<uint64_t> clock_floor_{0};
  std::unique_ptr<ReverseIndex> index_;  // over store_ (reverse_index.h); its own lock
  Mutex checkpoint_mu_;                  // one checkpoint at a time

  // Maintenance state.
  Mutex maint_mu_;
  CondVar maint_cv_{&maint_mu_};         // wakes the thread: a request, or stop
  CondVar checkpointed_cv_{&maint_mu_};  // a maintenance pass ended
  bool maint_stop_ GUARDED_BY(maint_mu_) = false;
  bool checkpoint_requested_ GUARDED_BY(maint_mu_) = false;
  uint64_t maint_passes_ GUARDED_BY(maint_mu_) = 0;
  std::thread maint_thread_;
  // Trigger inputs: WAL bytes logged (the sequencer adds), and at the last checkpoint.
  std::atomic<uint64_t> wal_bytes_{0}, wal_bytes_at_checkpoint_{0};
  std::atomic<int64_t> last_checkpoint_ns_{0};  // steady clock
  std::atomic<bool> wakeup_pending_{false};

  Health health_;  // the failure and checkpoint outcomes (health.h); its own lock

  std::atomic<uint64_t> commits_{0}, conflicts_{0}, invalidations_{0}, mismatches_{0},
      checkpoints_{0}, segments_deleted_{0}, write_stalls_{0};
  std::atomic<uint64_t> sequencer_store_reads_{0};  // RocksDB reads under commit_mu_
  // Latencies in nanoseconds (docs/metrics.md); each its own atomics, no lock.
  AtomicHistogram commit_sync_ns_{AtomicHistogram::kLatencyLog2},
      commit_buffered_ns_{AtomicHistogram::kLatencyLog2};
  AtomicHistogram get_memory_ns_{AtomicHistogram::kLatencyLog2},
      get_read_through_ns_{AtomicHistogram::kLatencyLog2};
  AtomicHistogram checkpoint_ns_{40};  // up to about 18 minutes
  // Times Get (util/tick_clock.h): constructed with the impl, calibrated at the end of the open.
  TickClock get_clock_;
  bool closed_ = false;  // Close() ran (only the closing thread touches it)
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_CACHE_IMPL_H_
