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
// Stored lists once read are cached (a share of the memory budget, S3-FIFO), so a hot source
// costs RocksDB nothing after its first write — a source without stored dependents included (an
// empty list). A cached list is the store's list as of its read, plus the edges checkpoints
// stored since, less edges the planner found stale (Drop). It holds every stored edge the
// invariant needs because the store's lists change only by checkpoints, and a checkpoint stores
// only edges of versions memory holds edges for until Checkpointed(S): that call, under this
// lock, adds each edge it drops from memory to its source's cached list, and moves the generation
// on; a list read from the store is cached only if no Checkpointed ran since before the read (the
// generation unchanged, as MemTable::Fill). (An edge dropped as stale before Checkpointed is
// stale: the dependent's newest version does not name the source.) Edges a checkpoint removed
// from the store may stay in a cached list: stale edges are allowed. The planted bug
// index-cache-outlives-checkpoint leaves the cached lists as they are in Checkpointed;
// index-fill-ignores-generation caches a list read before a Checkpointed (staged by holding the
// read at engine.index_read, tests/stored_index_test.cc).
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

#include "engine/flat_key_map.h"
#include "engine/rocks_store.h"
#include "engine/s3fifo.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "walcache/result.h"

namespace walcache::engine {

// The union of two sorted lists of keys, sorted, without duplicates.
std::vector<std::string> MergeKeys(std::vector<std::string> a, const std::vector<std::string>& b);

class ReverseIndex {
 public:
  // `store` holds the stored index and outlives this object. `cache_bytes`: the cached stored
  // lists' share of the memory budget (0: nothing is cached).
  ReverseIndex(const RocksStore* store, size_t cache_bytes)
      : store_(store), cache_capacity_(cache_bytes), cache_fifo_(cache_bytes) {}

  // A version at `seq` of `dependent` derives from `source`.
  void Add(std::string_view source, std::string_view dependent, uint64_t seq) EXCLUDES(mu_);
  // Forgets the in-memory edge (it was found stale); nothing if there is none.
  void Drop(const std::string& source, const std::string& dependent) EXCLUDES(mu_);
  // The keys that may derive from `source` are the union (MergeKeys) of two parts, each in key
  // order: memory's edges (no RocksDB read), and the store's (a RocksDB read, or its error). An
  // edge in transit is seen by reading memory first, then the store — or, with a store read
  // made earlier, by checking that no checkpoint landed since it (engine/store_prefetch.h).
  std::vector<std::string> MemoryDependentsOf(const std::string& source) const EXCLUDES(mu_);
  Result<std::vector<std::string>> StoredDependentsOf(const std::string& source) EXCLUDES(mu_);
  // A checkpoint at `seq` landed: its edges (those added at or below `seq`) are in the store.
  void Checkpointed(uint64_t seq) EXCLUDES(mu_);
  // Moves on at every Checkpointed: a stored list read while it had one value holds every edge
  // memory dropped since only if it still has that value (engine/store_prefetch.h).
  uint64_t generation() const EXCLUDES(mu_);

  size_t edges() const EXCLUDES(mu_);  // in memory
  size_t bytes() const EXCLUDES(mu_);  // in memory, keys and an estimate of the nodes
  struct CacheCounters {
    uint64_t lists = 0;   // cached stored lists
    uint64_t bytes = 0;   // their charge: keys and an estimate of the nodes
    uint64_t hits = 0;    // StoredDependentsOf answered from the cache
    uint64_t misses = 0;  // ... that read RocksDB
  };
  CacheCounters cache_counters() const EXCLUDES(mu_);

 private:
  struct CachedList {
    const std::string* source = nullptr;  // the key of its node in cache_
    std::vector<std::string> dependents;  // sorted
    S3Fifo<CachedList>::Hook s3fifo;
  };
  static size_t HashOf(std::string_view source);
  static size_t Charge(const std::string& source, const std::vector<std::string>& dependents);
  // Adds the edge to, or removes it from, the source's cached list, if it has one.
  void EditCached(const std::string& source, const std::string& dependent, bool add) REQUIRES(mu_);

  const RocksStore* const store_;
  const size_t cache_capacity_;  // bytes of cached lists at most
  mutable Mutex mu_;
  // source -> dependent -> seq of the newest version that added the edge.
  FlatKeyMap<std::map<std::string, uint64_t, std::less<>>> edges_ GUARDED_BY(mu_);  // HashOf
  size_t count_ GUARDED_BY(mu_) = 0;
  size_t bytes_ GUARDED_BY(mu_) = 0;
  // The cached stored lists (nodes stay put: the FIFO holds pointers to them).
  std::unordered_map<std::string, CachedList> cache_ GUARDED_BY(mu_);
  S3Fifo<CachedList> cache_fifo_ GUARDED_BY(mu_);
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  uint64_t cache_hits_ GUARDED_BY(mu_) = 0;
  uint64_t cache_misses_ GUARDED_BY(mu_) = 0;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_REVERSE_INDEX_H_
