// SPDX-License-Identifier: Apache-2.0
// ReverseIndex: the in-memory part of the reverse index (source -> keys that may derive from it):
// only the edges the store does not have yet, those of versions newer than the last checkpoint
// that wrote them. The whole index is this part together with the store's copy ('d' keys,
// engine/store_keys.h), which checkpoints write and prune (engine/checkpointer.cc); nothing reads
// the store's copy whole: a walk over the dependents of a source asks both, the store by a prefix
// seek (CacheImpl::StoredDependents, engine/commit.cc). A superset of the true edges: an edge
// goes from memory only when the planner finds it stale (Drop) or when a checkpoint that stored
// it is durable (DropStored), so an edge is findable at every instant, here or in RocksDB.
//
// Memory: every byte the index holds is charged to the memory budget through `charge` (the
// MemTable's outside charge, counted as dirty: it goes only with a checkpoint).
//
// Thread-safety: thread-safe; its own lock, below the sequencer's in the cache's lock order
// (engine/cache_impl.h), held only inside each call (and while calling `charge`, which must not
// call back).
#ifndef WALCACHE_ENGINE_REVERSE_INDEX_H_
#define WALCACHE_ENGINE_REVERSE_INDEX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace walcache::engine {

class ReverseIndex {
 public:
  // `charge(delta)` is told each change of the bytes the index holds; null: nobody is told.
  explicit ReverseIndex(std::function<void(int64_t delta)> charge = nullptr)
      : charge_(std::move(charge)) {}

  // The version at `seq` of `dependent` derives from `source`. An edge keeps the largest seq
  // that added it.
  void Add(std::string_view source, std::string_view dependent, uint64_t seq) EXCLUDES(mu_);
  // Forgets the edge (it was found stale); nothing if there is none.
  void Drop(const std::string& source, const std::string& dependent) EXCLUDES(mu_);
  // After a checkpoint at `seq` is durable in the store: forgets the edges of versions at or
  // below it (the checkpoint stored the edges of each key's newest version at or below `seq`;
  // the older versions' edges are stale or the same edge). REQUIRES: that checkpoint's store
  // write returned OK.
  void DropStored(uint64_t seq) EXCLUDES(mu_);
  // The keys that may derive from `source` by an edge held here, in key order.
  std::vector<std::string> DependentsOf(const std::string& source) const EXCLUDES(mu_);

  uint64_t bytes() const EXCLUDES(mu_);
  uint64_t edges() const EXCLUDES(mu_);

  // What an edge, and a source's own node, are charged (estimates of the map nodes' heap use).
  static size_t EdgeCharge(std::string_view dependent);
  static size_t SourceCharge(std::string_view source);

 private:
  void Charge(int64_t delta) REQUIRES(mu_);

  const std::function<void(int64_t)> charge_;
  mutable Mutex mu_;
  // source -> dependent -> the largest seq whose version added the edge.
  std::unordered_map<std::string, std::map<std::string, uint64_t, std::less<>>> edges_
      GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t count_ GUARDED_BY(mu_) = 0;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_REVERSE_INDEX_H_
