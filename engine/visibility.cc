// VisibilityTracker (see visibility.h).
#include "engine/visibility.h"

namespace walcache::engine {

void VisibilityTracker::Done(uint64_t seq) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t v = visible_.load(std::memory_order_relaxed);
  if (seq <= v) return;
  done_.insert(seq);
  bool advanced = false;
  while (!done_.empty() && *done_.begin() == v + 1) {
    done_.erase(done_.begin());
    ++v;
    advanced = true;
  }
  if (advanced) {
    visible_.store(v, std::memory_order_release);
    cv_.notify_all();
  }
}

void VisibilityTracker::WaitVisible(uint64_t seq) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return visible_.load(std::memory_order_relaxed) >= seq; });
}

}  // namespace walcache::engine
