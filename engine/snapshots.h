// SnapshotRegistry: the open read snapshots of a cache, and what they make the rest of the engine
// keep (docs/engine.md#snapshots).
//
// A snapshot reads the cache as of one updateId S and one instant T: from memory, the newest
// version at or below S that is newer than C; otherwise from a RocksDB view of checkpoint C
// (C <= S, RocksStore::View). For that to stay exact while it is open, three things hold:
//   - memory keeps every version a snapshot reads (MemTable::SetPins, which this class calls on
//     every change of the open set);
//   - a checkpoint that ran while the snapshot was being opened cannot mark memory clean before
//     the snapshot is registered: the checkpointer calls Barrier() between its RocksDB write and
//     MemTable::MarkCheckpointed, and Open registers inside the same lock in which it takes the
//     view; so a view of an older checkpoint is always registered before the versions it needs
//     can become evictable;
//   - the expiry filter drops nothing a snapshot still shows: checkpoints store an expiry horizon
//     no later than OldestInstant() (RocksDB's compaction filter runs on keys snapshots hold).
//
// Thread-safety: thread-safe; its lock is below the sequencer's and above MemTable's in the
// cache's lock order (engine/cache_impl.h). `take` runs under it.
#ifndef WALCACHE_ENGINE_SNAPSHOTS_H_
#define WALCACHE_ENGINE_SNAPSHOTS_H_

#include <cstdint>
#include <functional>
#include <map>

#include "engine/mem_table.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "walcache/result.h"

namespace walcache::engine {

struct SnapshotPin {
  uint64_t seq = 0;         // S: reads see transactions up to it
  uint64_t checkpoint = 0;  // C: the RocksDB view holds the state as of it (C <= S)
  uint64_t now_ms = 0;      // T: expiry is decided at this instant
  uint64_t view = 0;        // RocksStore::View::id
};

class SnapshotRegistry {
 public:
  explicit SnapshotRegistry(MemTable* mem) : mem_(mem) {}

  // Runs `take` (which opens the RocksDB view and reads S and T) and registers what it returns;
  // the snapshot's id, or take's error.
  Result<uint64_t> Open(const std::function<Result<SnapshotPin>()>& take) EXCLUDES(mu_);
  // Unregisters `id`; returns its pin (view 0 if it was not open).
  SnapshotPin Close(uint64_t id) EXCLUDES(mu_);
  // Returns once every Open that started before it has registered (see above).
  void Barrier() EXCLUDES(mu_);
  // The instant of the oldest open snapshot; UINT64_MAX if none is open.
  uint64_t OldestInstant() const EXCLUDES(mu_);
  size_t open() const EXCLUDES(mu_);

 private:
  void Publish() REQUIRES(mu_);

  MemTable* const mem_;
  mutable Mutex mu_;
  std::map<uint64_t, SnapshotPin> open_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_SNAPSHOTS_H_
