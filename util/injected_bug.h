// Planted bugs: deliberate defects in walcache that the crash checker must catch (docs/design.md
// §6), switched on by `walcache crash-test --inject-bug NAME` in the process under test. They
// exist only in the planted-bug build of the wal, recovery and engine layers, which the checker,
// the CLI and the tests link (WALCACHE_PLANTED_BUGS); in the library a service links, BugInjected
// is a constant false and every branch it guards is compiled out. In the planted build, off, a
// switch costs one relaxed atomic load where it sits.
//
// Thread-safety: thread-safe; switch before the cache opens.
#ifndef WALCACHE_UTIL_INJECTED_BUG_H_
#define WALCACHE_UTIL_INJECTED_BUG_H_

#include <atomic>
#include <string_view>
#include <vector>

#include "walcache/status.h"

namespace walcache {

enum class InjectedBug : int {
  kNone = 0,
  kAckBeforeSync,               // a sync commit is acknowledged before its fdatasync
  kSplitTransaction,            // a transaction with several ops is logged as two records
  kSkipRelatedInvalidation,     // writing a source leaves entries derived from it in place
  kCheckpointMarkerBeforeData,  // checkpoint_seq is written (synced) before the data it covers
  kDeleteWalBeforeCheckpoint,   // covered WAL segments go before the checkpoint is durable
  kIgnoreTornTail,              // recovery leaves a torn tail in place and appends after it
  kCheckpointWithoutSync,       // the checkpoint's RocksDB write is not synced
  kApplyBeforeLog,              // a transaction is applied and visible before the WAL has it
  kReorderApply,                // transactions reach the map in completion order, not seq order
  kCascadeIgnoresTxnEdges,      // a cascade follows only installed entries' edges (issue 12)
  kExpiryFilterUsesClock,     // the expiry filter drops by the clock, not the checkpoint's horizon
  kResumeAfterTornTail,       // an open keeps a torn tail and continues the segment after its bytes
  kSnapshotUnpinned,          // open snapshots do not keep the versions they read in memory
  kFillWithoutSources,        // GetOrLoad stores its fill without the sources it read
  kFeedPastDurable,           // the change feed shows visible transactions not yet fdatasynced
  kFeedForgetsConsumers,      // checkpoints delete WAL segments a registered feed consumer needs
  kResumeHalfCreatedSegment,  // an open continues a segment whose directory entry is not durable
  kGathererLeavesSilently,    // a WAL gatherer whose record another synced leaves nobody syncing
  kFollowerTakesStaleLoad,    // a GetOrLoad that joined an older load returns it, even if stale
  kAckDuringSync,    // an fdatasync also acknowledges the records written while it ran (issue 15)
  kIndexSkipsStore,  // a cascade reads the in-memory reverse index only, not the stored one
  kIndexForgetsUnwritten,      // a checkpoint drops in-memory edges of versions it did not write
  kPrefetchIgnoresCheckpoint,  // the sequencer trusts reads made before a checkpoint changed them
  kIndexCacheOutlivesCheckpoint,  // a cached stored dependents list survives a checkpoint's edges
  kIndexFillIgnoresGeneration,    // a stored dependents list read before a checkpoint is cached
};

struct InjectedBugInfo {
  InjectedBug bug;
  std::string_view name;
  std::string_view breaks;
};

// Every planted bug, with its name and what it breaks.
const std::vector<InjectedBugInfo>& InjectedBugs();

// Switches on the bug named `name` (InvalidArgument for an unknown name), or all off for "".
Status InjectBug(std::string_view name);

namespace internal {
extern std::atomic<int> injected_bug;
}  // namespace internal

#if defined(WALCACHE_PLANTED_BUGS)
// Only in the planted-bug variants of the layers (CMakeLists.txt: walcache_planted), which the
// checker, the CLI and the tests link.
inline bool BugInjected(InjectedBug b) {
  return internal::injected_bug.load(std::memory_order_relaxed) == static_cast<int>(b);
}
#else
// The library users link: every planted defect is compiled out.
constexpr bool BugInjected(InjectedBug) { return false; }
#endif

}  // namespace walcache

#endif  // WALCACHE_UTIL_INJECTED_BUG_H_
