// SPDX-License-Identifier: Apache-2.0
// PreReads: what a transaction's dry run read before the sequencer lock was taken (engine/
// commit.cc), so that the sequencer reads no RocksDB while it holds the lock: each key's newest
// copy (from memory or the store, expired ones included) and each source's edges in the stored
// reverse index. Valid while the store epoch (CacheImpl::store_epoch_, bumped after each
// checkpoint's store write and before memory lets go of what that write stored) is still the one
// the dry run began at: a key memory does not know then is clean, and its stored copy and stored
// edges are what they were; edges added since are in memory.
//
// Thread-safety: a plain value, used by the committing thread only.
#ifndef WALCACHE_ENGINE_PRE_READS_H_
#define WALCACHE_ENGINE_PRE_READS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/entry.h"

namespace walcache::engine {

struct PreReads {
  uint64_t epoch = 0;  // the store epoch before the first read
  std::unordered_map<std::string, std::optional<Entry>> entries;         // key -> newest copy
  std::unordered_map<std::string, std::vector<std::string>> dependents;  // source -> stored edges
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_PRE_READS_H_
