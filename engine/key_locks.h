// KeyLocks: per-key mutual exclusion among the threads of one process (Cache::Lock). A key's
// lock exists only while someone holds or waits for it.
// Thread-safety: thread-safe.
#ifndef WALCACHE_ENGINE_KEY_LOCKS_H_
#define WALCACHE_ENGINE_KEY_LOCKS_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace walcache::engine {

class KeyLocks {
 public:
  // Blocks until this thread holds `key`'s lock.
  void Lock(std::string_view key);
  // REQUIRES: the caller holds `key`'s lock.
  void Unlock(const std::string& key);

 private:
  struct Node {
    bool held = false;
    int waiters = 0;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Node> nodes_;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_KEY_LOCKS_H_
