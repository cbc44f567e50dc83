// VisibilityTracker: the watermark up to which transactions are visible to readers. A
// transaction is marked done once it is durable under its own mode (written for kBuffered,
// fdatasynced for kSync); the watermark is the end of the contiguous run of done sequence
// numbers, so readers see a prefix of history and never a transaction a crash could take back
// while an earlier one is still missing.
//
// Thread-safety: thread-safe.
#ifndef WALCACHE_ENGINE_VISIBILITY_H_
#define WALCACHE_ENGINE_VISIBILITY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

namespace walcache::engine {

class VisibilityTracker {
 public:
  explicit VisibilityTracker(uint64_t visible) : visible_(visible) {}

  // The watermark; readers load it (acquire) to pick versions.
  const std::atomic<uint64_t>* watermark() const { return &visible_; }
  uint64_t visible() const { return visible_.load(std::memory_order_acquire); }

  // Marks `seq` done and advances the watermark over every contiguous done seq.
  void Done(uint64_t seq);
  // Blocks until the watermark reaches `seq`.
  void WaitVisible(uint64_t seq);

 private:
  std::atomic<uint64_t> visible_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<uint64_t> done_;  // done seqs above the watermark
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_VISIBILITY_H_
