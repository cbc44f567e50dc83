// Lifeline: what lets a Transaction, KeyLock, Snapshot or load outlive its Cache and fail
// cleanly instead of touching freed memory.
//
// Thread-safety: `mu` guards `impl`. Calls through a Lifeline hold `mu` shared while they use the
// impl; ~Cache holds it exclusively to clear the pointer, so it waits for those calls and none
// starts on a destroyed impl.
#ifndef WALCACHE_ENGINE_LIFELINE_H_
#define WALCACHE_ENGINE_LIFELINE_H_

#include <shared_mutex>

namespace walcache::engine {

class CacheImpl;

struct Lifeline {
  std::shared_mutex mu;
  CacheImpl* impl = nullptr;  // null once the Cache is destroyed
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_LIFELINE_H_
