// StorePrefetch: what a commit read from RocksDB before it took the sequencer, so that the
// sequencer need not read RocksDB while it holds its lock (issue 14). Before the lock, the commit
// plans its transaction once as a dry run (engine/commit.cc, CacheImpl::Prefetch) and keeps here
// the stored copy of every key that memory did not know and the stored edges of every source it
// walked. Under the lock, the real plan takes a key from memory if memory knows it, else from
// here — but only while no checkpoint has landed since these reads (the store's checkpoint_seq
// unchanged), and else it reads RocksDB itself (CacheStats::sequencer_store_reads).
//
// Why that is exact: RocksDB changes only by a checkpoint's write, which sets checkpoint_seq
// after it. A key a checkpoint writes is in memory (dirty) from before the write until after
// checkpoint_seq is set, and memory is read first; so a key that memory does not know has the
// stored copy read here unless checkpoint_seq moved. Likewise for an edge: memory's edges are
// read first, and a checkpoint forgets an edge only after it stored it, in
// ReverseIndex::Checkpointed, which moves the index's generation on. A stored list may come from
// the index's cache, filled before the checkpoint's write, so for edges the generation is the
// check: unchanged, no edge left memory since the reads. The planted bug
// prefetch-ignores-checkpoint skips both checks.
//
// Thread-safety: none; one commit's, on its thread.
#ifndef WALCACHE_ENGINE_STORE_PREFETCH_H_
#define WALCACHE_ENGINE_STORE_PREFETCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/entry.h"

namespace walcache::engine {

struct StorePrefetch {
  uint64_t checkpoint_seq = 0;    // the store's, read before any read below
  uint64_t index_generation = 0;  // ReverseIndex::generation(), read before any read below
  std::unordered_map<std::string, std::optional<Entry>> entries;         // expired ones included
  std::unordered_map<std::string, std::vector<std::string>> dependents;  // stored edges
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_STORE_PREFETCH_H_
