// KeyLocks (see key_locks.h).
#include "engine/key_locks.h"

namespace walcache::engine {

void KeyLocks::Lock(std::string_view key) {
  std::unique_lock<std::mutex> l(mu_);
  Node& n = nodes_[std::string(key)];
  ++n.waiters;
  cv_.wait(l, [&] { return !n.held; });  // unordered_map nodes are stable across rehashes
  --n.waiters;
  n.held = true;
}

void KeyLocks::Unlock(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return;
  it->second.held = false;
  if (it->second.waiters == 0) {
    nodes_.erase(it);
  } else {
    cv_.notify_all();
  }
}

}  // namespace walcache::engine
