// ReverseIndex: the in-memory reverse index, source -> keys that may derive from it. A superset:
// loaded from RocksDB at open (the store keeps its own copy, which checkpoints write), extended
// when a derived entry is installed, and pruned when the commit planner finds an edge whose
// dependent no longer derives from the source — so nothing on the commit path reads RocksDB's
// copy. Not yet charged to the memory budget (issue 14).
//
// Thread-safety: thread-safe; its own lock, below the sequencer's in the cache's lock order
// (engine/cache_impl.h), held only inside each call.
#ifndef WALCACHE_ENGINE_REVERSE_INDEX_H_
#define WALCACHE_ENGINE_REVERSE_INDEX_H_

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace walcache::engine {

class ReverseIndex {
 public:
  void Add(std::string_view source, std::string_view dependent) EXCLUDES(mu_);
  // Forgets the edge (it was found stale); nothing if there is none.
  void Drop(const std::string& source, const std::string& dependent) EXCLUDES(mu_);
  // The keys that may derive from `source`, in key order.
  std::vector<std::string> DependentsOf(const std::string& source) const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::unordered_map<std::string, std::set<std::string>> edges_ GUARDED_BY(mu_);
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_REVERSE_INDEX_H_
