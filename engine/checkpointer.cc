// Checkpoints (see cache_impl.h and docs/design.md §4).
#include <algorithm>
#include <chrono>

#include "engine/cache_impl.h"
#include "engine/checkpoint_failure.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
#include "wal/segment.h"

namespace walcache::engine {

Status CacheImpl::Checkpoint() {
  if (options_.read_only) return Status::Aborted(dir_ + " is open read-only");
  MutexLock cpl(&checkpoint_mu_);
  WALCACHE_RETURN_IF_ERROR(health());
  const uint64_t t0 = SteadyNowNs();
  const Status s = RunCheckpoint();
  if (s.ok()) checkpoint_ns_.Record(SteadyNowNs() - t0);
  NoteCheckpoint(s);
  return s;
}

void CacheImpl::NoteCheckpoint(const Status& s) {
  const Health::Noted noted = health_.NoteCheckpoint(s);
  // Best effort: the tools' view of a failing store. The disk may be failing too.
  if (noted.record == Health::Record::kWrite) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto ms =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    (void)WriteCheckpointFailure(fs_, dir_, CheckpointFailure{ms, noted.failures, s.ToString()});
  } else if (noted.record == Health::Record::kClear) {
    (void)ClearCheckpointFailure(fs_, dir_);
  }
}

Status CacheImpl::RunCheckpoint() {
  uint64_t seq = 0;
  uint64_t wal_bytes = 0;
  uint64_t horizon = 0;
  {
    // Pin S: from now on the sequencer keeps every key's newest version at or below S.
    MutexLock l(&commit_mu_);
    seq = tracker_->visible();
    checkpoint_pin_ = seq;
    horizon = HorizonAt(seq);  // no transaction after S is sequenced before it
    // Nor may the expiry filter drop what an open snapshot still shows (snapshots.h).
    horizon = std::min(horizon, snapshots_->OldestInstant());
    wal_bytes = wal_bytes_.load(std::memory_order_relaxed);
  }
  auto unpin = [this] {
    MutexLock l(&commit_mu_);
    checkpoint_pin_ = UINT64_MAX;
  };
  // Everything at or below S was written (it is visible); after this sync it is durable, so
  // RocksDB never gets ahead of the WAL (trap 1).
  Status s = writer_->Sync();
  if (!s.ok()) {
    unpin();
    Fail(s);
    return s;
  }
  // S is pinned and durable; commits after it go on (and may rotate the WAL) while this
  // checkpoint collects and writes its state.
  WALCACHE_KILL_POINT(kCheckpointPinned);
  std::vector<std::pair<std::string, Version>> dirty;
  mem_->ForEachDirty(seq,
                     [&](const std::string& key, const Version& v) { dirty.emplace_back(key, v); });
  RocksStore::Checkpoint cp;
  for (const auto& [key, v] : dirty) {
    // Keep the stored reverse index in step: drop the edges of the entry being replaced.
    Result<std::optional<Entry>> old = store_->Get(key);
    if (!old.ok()) {
      unpin();
      return old.status();
    }
    if (old->has_value()) {
      for (const RelatedKey& r : (*old)->related) {
        const bool still =
            v.entry.has_value() && std::any_of(v.entry->related.begin(), v.entry->related.end(),
                                               [&](const RelatedKey& n) { return n.key == r.key; });
        if (!still) cp.RemoveDependent(r.key, key);
      }
    }
    if (v.entry.has_value()) {
      cp.Put(key, *v.entry);
      // Only the edges the stored index lacks: those of the stored entry being replaced are
      // there (a checkpoint stores an entry's edges with it), and so are their sources' markers.
      std::vector<RelatedKey> added;
      for (const RelatedKey& r : v.entry->related) {
        const bool stored =
            old->has_value() && std::any_of((*old)->related.begin(), (*old)->related.end(),
                                            [&](const RelatedKey& o) { return o.key == r.key; });
        if (!stored) added.push_back(r);
      }
      for (const RelatedKey& r : added) cp.AddDependent(r.key, key);
    } else {
      cp.Delete(key);
    }
  }
  if (BugInjected(InjectedBug::kDeleteWalBeforeCheckpoint)) {
    Result<uint64_t> early =
        wal::DeleteCoveredSegments(fs_, WalDir(), seq, writer_->active_segment());
    if (early.ok()) segments_deleted_ += *early;
  }
  WALCACHE_KILL_POINT(kCheckpointBeforeStoreWrite);
  s = store_->Apply(std::move(cp), seq, horizon);  // one synced, atomic write (trap 3)
  WALCACHE_KILL_POINT(kCheckpointAfterStoreWrite);
  if (!s.ok()) {
    unpin();
    return s;
  }
  // A snapshot that took its RocksDB view before the write above is registered by now, so the
  // versions it reads from memory stay (snapshots.h).
  snapshots_->Barrier();
  index_->Checkpointed(seq);  // after the write: the store has these edges now
  mem_->MarkCheckpointed(seq);
  unpin();
  checkpoints_++;
  // Re-arm the triggers (engine/maintenance.cc).
  wal_bytes_at_checkpoint_.store(wal_bytes, std::memory_order_relaxed);
  last_checkpoint_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count());
  wakeup_pending_.store(false, std::memory_order_relaxed);
  // Only now may the WAL records at or below S go (trap 2).
  WALCACHE_KILL_POINT(kCheckpointBeforeSegmentDelete);
  // The change feed's pins, consumers and retention bytes may keep some (feed_retention.h).
  Result<uint64_t> deleted =
      feed_->DeleteSegments(seq, [&](uint64_t covered, uint64_t retain_bytes) {
        return wal::DeleteCoveredSegments(fs_, WalDir(), covered, writer_->active_segment(),
                                          retain_bytes);
      });
  if (!deleted.ok()) return deleted.status();
  segments_deleted_ += *deleted;
  WALCACHE_KILL_POINT(kCheckpointAfterSegmentDelete);
  return Status::OK();
}

Status CacheImpl::Compact() {
  WALCACHE_RETURN_IF_ERROR(Checkpoint());
  WALCACHE_RETURN_IF_ERROR(store_->CompactAll());
  // The expiry filter has run over the whole store; what commits logged since the checkpoint
  // lives in the WAL alone.
  WALCACHE_KILL_POINT(kCompactDone);
  return Status::OK();
}

}  // namespace walcache::engine
