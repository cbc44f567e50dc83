// ReverseIndex: source -> the keys that may derive from it, for the commit planner's cascades.
// A superset (the planner checks each candidate's related list), in two parts:
//   - the stored index in RocksDB ('d' keys, docs/storage-format.md), which checkpoints keep in
//     step with the stored entries and which is read on demand, one prefix seek per source — and
//     no seek at all for a source that never had a stored dependent (RocksStore::Dependents
//     looks up its marker first, a bloom-filtered point read);
//   - the edges of versions installed since the last checkpoint, in memory, each with the seq of
//     the newest version that added it. A checkpoint at S writes the edges of every dirty key's
//     newest version at or below S, so after it lands (Checkpointed(S)) the edges added at or
//     below S are in the store and leave memory; those of later versions stay.
// So nothing at open reads the index, and memory holds only the edges of dirty entries: the
// overlay is as large as the related lists of the versions a checkpoint has yet to write, which
// the memory budget's dirty bound limits. Its bytes are reported (bytes(), CacheStats).
//
// Invariant (I-index): for every key's newest version, visible or pending, and each source it
// names, the edge is in memory or in the store. Stale edges (the dependent no longer derives
// from the source) are allowed; the planner reports those it meets and Drop forgets them in
// memory (a stored one stays until the dependent's next checkpoint rewrites its edges).
//
// Thread-safety: thread-safe; its own lock, below the sequencer's in the cache's lock order
// (engine/cache_impl.h), held only inside each call and never across a RocksDB read.
#ifndef WALCACHE_ENGINE_REVERSE_INDEX_H_
#define WALCACHE_ENGINE_REVERSE_INDEX_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/rocks_store.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "walcache/result.h"

namespace walcache::engine {

// The union of two sorted lists of keys, sorted, without duplicates.
std::vector<std::string> MergeKeys(std::vector<std::string> a, const std::vector<std::string>& b);

class ReverseIndex {
 public:
  // `store` holds the stored index and outlives this object.
  explicit ReverseIndex(const RocksStore* store) : store_(store) {}

  // A version at `seq` of `dependent` derives from `source`.
  void Add(std::string_view source, std::string_view dependent, uint64_t seq) EXCLUDES(mu_);
  // Forgets the in-memory edge (it was found stale); nothing if there is none.
  void Drop(const std::string& source, const std::string& dependent) EXCLUDES(mu_);
  // The keys that may derive from `source` are the union (MergeKeys) of two parts, each in key
  // order: memory's edges (no RocksDB read), and the store's (a RocksDB read, or its error). An
  // edge in transit is seen by reading memory first, then the store — or, with a store read
  // made earlier, by checking that no checkpoint landed since it (engine/store_prefetch.h).
  std::vector<std::string> MemoryDependentsOf(const std::string& source) const EXCLUDES(mu_);
  Result<std::vector<std::string>> StoredDependentsOf(const std::string& source) const;
  // A checkpoint at `seq` landed: its edges (those added at or below `seq`) are in the store.
  void Checkpointed(uint64_t seq) EXCLUDES(mu_);

  size_t edges() const EXCLUDES(mu_);  // in memory
  size_t bytes() const EXCLUDES(mu_);  // in memory, keys and an estimate of the nodes

 private:
  const RocksStore* const store_;
  mutable Mutex mu_;
  // source -> dependent -> seq of the newest version that added the edge.
  std::unordered_map<std::string, std::map<std::string, uint64_t, std::less<>>> edges_
      GUARDED_BY(mu_);
  size_t count_ GUARDED_BY(mu_) = 0;
  size_t bytes_ GUARDED_BY(mu_) = 0;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_REVERSE_INDEX_H_
