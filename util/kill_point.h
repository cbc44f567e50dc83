// Kill points: named places in walcache's own code where a test or the crash checker may stop
// the process (docs/checker.md). Compiled into every build — the checker tests the code users
// run; a disabled point costs one relaxed atomic load. A handler, once installed, is called with
// the point's name at every point reached and decides (e.g. with seeded odds) whether to _exit
// there, or holds the thread for a while (checker/pin_window.h).
//
// Every point is in one list, WALCACHE_KILL_POINTS below: call sites name a point by its
// constant, so a misspelt point does not compile, and the checker walks the same list, so a point
// it does not aim at is a decision (tests/checker_test.cc), not a typo that shows up as a timeout.
//
//   WALCACHE_KILL_POINT(kCheckpointAfterStoreWrite);
//
// Thread-safety: thread-safe; the handler must be.
#ifndef WALCACHE_UTIL_KILL_POINT_H_
#define WALCACHE_UTIL_KILL_POINT_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace walcache {

// X(constant, name, where it is): the name is what handlers, reports and tests see.
#define WALCACHE_KILL_POINTS(X)                                                                   \
  X(kWalBeforeWrite, "wal.before_write", "a group's records are about to be written")             \
  X(kWalAfterWrite, "wal.after_write", "a group is written, not yet synced")                      \
  X(kWalBeforeSync, "wal.before_sync", "a group's fdatasync is about to start")                   \
  X(kWalAfterSync, "wal.after_sync", "a group is durable, its commits not yet acknowledged")      \
  X(kWalRotate, "wal.rotate", "the active segment is full, about to be synced and left")          \
  X(kWalSegmentHeaderSynced, "wal.segment_header_synced",                                         \
    "a new segment's header is synced, its directory entry not yet")                              \
  X(kWalSegmentCreated, "wal.segment_created",                                                    \
    "a new segment is durable, not yet named by the witness")                                     \
  X(kWalSegmentDeleted, "wal.segment_deleted", "a segment a checkpoint covers was deleted")       \
  X(kEngineApply, "engine.apply", "a logged transaction is in the map, its commit not returned")  \
  X(kEngineLogged, "engine.logged", "a transaction is in the WAL, not yet visible to readers")    \
  X(kEngineReadThrough, "engine.read_through", "a miss read RocksDB; the copy is not cached yet") \
  X(kEngineFillReadBack, "engine.fill_read_back",                                                 \
    "a GetOrLoad fill is committed and read back; the callers waiting on it are not told yet")    \
  X(kEnginePrefetched, "engine.prefetched",                                                       \
    "a commit read what it needs from RocksDB and is about to take the sequencer")                \
  X(kEngineIndexRead, "engine.index_read",                                                        \
    "a cascade read a source's stored dependents from RocksDB; the list is not cached yet")       \
  X(kCheckpointPinned, "checkpoint.pinned", "a checkpoint's sequence is pinned and durable")      \
  X(kCheckpointBeforeStoreWrite, "checkpoint.before_store_write", "before RocksDB's write")       \
  X(kCheckpointMarkerWritten, "checkpoint.marker_written",                                        \
    "checkpoint_seq stored before the data (only under checkpoint-marker-before-data)")           \
  X(kCheckpointAfterStoreWrite, "checkpoint.after_store_write", "RocksDB holds the checkpoint")   \
  X(kCheckpointBeforeSegmentDelete, "checkpoint.before_segment_delete",                           \
    "the checkpoint is stored; covered segments are about to go")                                 \
  X(kCheckpointAfterSegmentDelete, "checkpoint.after_segment_delete", "a checkpoint is done")     \
  X(kCompactDone, "compact.done", "Compact()'s RocksDB compaction finished")                      \
  X(kRecoveryReplay, "recovery.replay", "recovery is replaying a WAL record")                     \
  X(kRecoveryBeforeTailRepair, "recovery.before_tail_repair", "a torn tail is about to be cut")

enum class KillPoint : uint8_t {
#define WALCACHE_KILL_POINT_ENUM_(constant, name, where) constant,
  WALCACHE_KILL_POINTS(WALCACHE_KILL_POINT_ENUM_)
#undef WALCACHE_KILL_POINT_ENUM_
};

inline constexpr size_t kKillPointCount = 0
#define WALCACHE_KILL_POINT_COUNT_(constant, name, where) +1
    WALCACHE_KILL_POINTS(WALCACHE_KILL_POINT_COUNT_)
#undef WALCACHE_KILL_POINT_COUNT_
    ;

// Every point, in the list's order.
inline constexpr std::array<KillPoint, kKillPointCount> kAllKillPoints = {
#define WALCACHE_KILL_POINT_ALL_(constant, name, where) KillPoint::constant,
    WALCACHE_KILL_POINTS(WALCACHE_KILL_POINT_ALL_)
#undef WALCACHE_KILL_POINT_ALL_
};

// The point's name ("wal.before_write"); the list's third column says where it is.
constexpr const char* KillPointName(KillPoint p) {
  constexpr std::array<const char*, kKillPointCount> names = {
#define WALCACHE_KILL_POINT_NAME_(constant, name, where) name,
      WALCACHE_KILL_POINTS(WALCACHE_KILL_POINT_NAME_)
#undef WALCACHE_KILL_POINT_NAME_
  };
  return names[static_cast<size_t>(p)];
}
// The point named `name`, if there is one.
constexpr std::optional<KillPoint> KillPointNamed(std::string_view name) {
  for (KillPoint p : kAllKillPoints) {
    if (name == KillPointName(p)) return p;
  }
  return std::nullopt;
}

using KillPointHandler = void (*)(const char* name);

namespace internal {
extern std::atomic<KillPointHandler> kill_point_handler;
}  // namespace internal

// Installs `handler` (nullptr disables every point). Returns the previous one.
KillPointHandler SetKillPointHandler(KillPointHandler handler);

}  // namespace walcache

// `point` is a KillPoint constant without its scope: WALCACHE_KILL_POINT(kEngineApply).
#define WALCACHE_KILL_POINT(point)                                                          \
  do {                                                                                      \
    ::walcache::KillPointHandler _wc_kp =                                                   \
        ::walcache::internal::kill_point_handler.load(std::memory_order_relaxed);           \
    if (_wc_kp != nullptr) _wc_kp(::walcache::KillPointName(::walcache::KillPoint::point)); \
  } while (0)

#endif  // WALCACHE_UTIL_KILL_POINT_H_
