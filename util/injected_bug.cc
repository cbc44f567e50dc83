// Planted bugs (see injected_bug.h).
#include "util/injected_bug.h"

#include <string>

namespace walcache {
namespace internal {
std::atomic<int> injected_bug{0};
}  // namespace internal

const std::vector<InjectedBugInfo>& InjectedBugs() {
  static const std::vector<InjectedBugInfo> bugs = {
      {InjectedBug::kAckBeforeSync, "ack-before-sync",
       "durability: a sync commit is acknowledged before fdatasync, so power loss takes it back"},
      {InjectedBug::kSplitTransaction, "split-transaction",
       "atomicity: a multi-op transaction is logged as two records, so a crash can keep half"},
      {InjectedBug::kSkipRelatedInvalidation, "skip-related-invalidation",
       "related-key consistency: writing a source leaves stale derived entries"},
      {InjectedBug::kCheckpointMarkerBeforeData, "checkpoint-marker-before-data",
       "durability: checkpoint_seq is stored before the data, so a crash between loses commits"},
      {InjectedBug::kDeleteWalBeforeCheckpoint, "delete-wal-before-checkpoint",
       "durability: WAL segments are deleted before the checkpoint covering them is written"},
      {InjectedBug::kIgnoreTornTail, "ignore-torn-tail",
       "recovery: a torn tail is left in place, so the next recovery finds mid-log corruption"},
      {InjectedBug::kCheckpointWithoutSync, "checkpoint-without-sync",
       "durability: the checkpoint is not synced in RocksDB, yet the WAL it covers is deleted"},
      {InjectedBug::kApplyBeforeLog, "apply-before-log",
       "visibility: readers see a transaction before it is logged, so a crash takes back what "
       "they saw"},
      {InjectedBug::kReorderApply, "reorder-apply",
       "ordering: commits reach the map in the order their WAL waits end, so the map and the "
       "log disagree"},
      {InjectedBug::kCascadeIgnoresTxnEdges, "cascade-ignores-txn-edges",
       "related-key consistency: a write, delete or touch in a transaction misses entries "
       "derived from the key earlier in that transaction"},
      {InjectedBug::kExpiryFilterUsesClock, "expiry-filter-uses-clock",
       "durability: RocksDB's compaction drops an expired stored copy that a later WAL record "
       "touched, so replay loses the acknowledged touch"},
      {InjectedBug::kResumeAfterTornTail, "resume-after-torn-tail",
       "recovery: an open continues the newest segment after its torn bytes instead of cutting "
       "them at the valid end, so damage sits between old and new records"},
      {InjectedBug::kSnapshotUnpinned, "snapshot-unpinned",
       "snapshots: memory trims and evicts the versions an open snapshot reads, so it shows "
       "a state other than its updateId's (a derived entry beside sources it does not match)"},
      {InjectedBug::kFillWithoutSources, "fill-without-sources",
       "get-or-load: the fill is stored without its related keys and Expects, so it survives a "
       "change of the sources it was loaded from (a stale fill)"},
      {InjectedBug::kFeedPastDurable, "feed-past-durable",
       "change feed: it shows buffered transactions before they are fdatasynced, so a power "
       "loss takes back what a consumer already applied"},
      {InjectedBug::kFeedForgetsConsumers, "feed-forgets-consumers",
       "change feed: checkpoints delete the WAL segments a registered consumer has not read, so "
       "it finds a gap where retention promised none"},
      {InjectedBug::kResumeHalfCreatedSegment, "resume-half-created-segment",
       "WAL: an open continues a segment that a crash left half-created (header synced, "
       "directory not), so a power loss takes the segment and its synced records"},
      {InjectedBug::kFollowerTakesStaleLoad, "follower-takes-stale-load",
       "read: a GetOrLoad that waited for a load begun before it returns that load's entry even "
       "when a write acknowledged before the call had already invalidated it"},
      {InjectedBug::kGathererLeavesSilently, "gatherer-leaves-silently",
       "WAL: a committer gathering a group whose record another thread's fdatasync covered "
       "leaves without handing the sync role on, so a committer that slept on it waits for ever"},
      {InjectedBug::kAckDuringSync, "ack-during-sync",
       "durability: a group's fdatasync also acknowledges the next group, written while it ran "
       "and not covered by it, so power loss takes back sync commits"},
      {InjectedBug::kIndexSkipsStore, "index-skips-store",
       "cascade: writing a source looks for its dependents only among the edges not yet "
       "checkpointed, so a derived entry whose edge a checkpoint stored outlives its source"},
      {InjectedBug::kIndexForgetsUnwritten, "index-forgets-unwritten",
       "cascade: a checkpoint drops from memory the edges of versions committed after its seq, "
       "which it did not store, so writing their source leaves them in place"},
      {InjectedBug::kPrefetchIgnoresCheckpoint, "prefetch-ignores-checkpoint",
       "commit path: the sequencer plans with the RocksDB reads its commit made before taking "
       "the lock even when a checkpoint landed between, so it misses an edge the checkpoint "
       "moved from memory into the store"},
      {InjectedBug::kIndexCacheOutlivesCheckpoint, "index-cache-outlives-checkpoint",
       "cascade: a source's stored dependents list, cached in memory, is left as it was when a "
       "checkpoint moves a new edge of that source from memory into the store, so writing the "
       "source misses the dependent"},
      {InjectedBug::kIndexFillIgnoresGeneration, "index-fill-ignores-generation",
       "cascade: a source's stored dependents list read from RocksDB is cached even when a "
       "checkpoint moved a new edge of that source into the store after the read, so the next "
       "write of the source plans with the cached list and misses the dependent"},
  };
  return bugs;
}

Status InjectBug(std::string_view name) {
  if (name.empty()) {
    internal::injected_bug.store(0);
    return Status::OK();
  }
  for (const InjectedBugInfo& b : InjectedBugs()) {
    if (b.name == name) {
      internal::injected_bug.store(static_cast<int>(b.bug));
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown bug '" + std::string(name) +
                                 "' (walcache crash-test --list-bugs)");
}

}  // namespace walcache
