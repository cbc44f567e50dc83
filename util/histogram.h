// AtomicHistogram: counts values into fixed power-of-two buckets (walcache/histogram.h's
// bounds 0, 1, 2, 4, ..., 2^max_log2, then +Inf) with relaxed atomic additions and no lock, so
// that the hot paths (a Get served from memory, a commit) can time themselves. The counters are
// striped: each thread adds to one of kStripes cache-line-aligned copies (picked once per
// thread), so that threads counting at once do not fight over one cache line. Snapshot() sums
// the stripes; the bucket counts are exact, and count is their sum, so a snapshot's buckets and
// count always agree.
//
// Thread-safety: thread-safe; Record and Snapshot may run concurrently.
#ifndef WALCACHE_UTIL_HISTOGRAM_H_
#define WALCACHE_UTIL_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>

#include "walcache/histogram.h"

namespace walcache {

class AtomicHistogram {
 public:
  static constexpr int kMaxLog2 = 61;
  // The walcache's choices: latencies in ns up to 2^36 (about 69 s), counts up to 2^20.
  static constexpr int kLatencyLog2 = 36;
  static constexpr int kCountLog2 = 20;
  // The last finite bound is 2^max_log2 (<= kMaxLog2).
  explicit AtomicHistogram(int max_log2);
  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  void Record(uint64_t value) {
    Stripe& s = stripes_[StripeOfThisThread()];
    s.buckets[BucketOf(value)].fetch_add(1, std::memory_order_relaxed);
    s.sum.fetch_add(value, std::memory_order_relaxed);
  }
  Histogram Snapshot() const;

  // The bucket of `value`: 0 for 0, 1 for 1, i + 1 for (2^(i-1), 2^i], the +Inf bucket above
  // 2^max_log2.
  int BucketOf(uint64_t value) const {
    const int b = value <= 1 ? static_cast<int>(value) : 1 + std::bit_width(value - 1);
    return b < finite_ ? b : finite_;
  }

 private:
  static constexpr int kStripes = 8;
  static constexpr int kSlots = kMaxLog2 + 3;  // 0, 1, 2^1 .. 2^kMaxLog2, +Inf
  struct alignas(64) Stripe {
    std::array<std::atomic<uint64_t>, kSlots> buckets{};
    std::atomic<uint64_t> sum{0};
  };
  static int StripeOfThisThread();

  const int finite_;  // finite bounds: max_log2 + 2; bucket finite_ is +Inf
  std::array<Stripe, kStripes> stripes_;
};

// Nanoseconds of the steady clock, for timing an interval to Record.
inline uint64_t SteadyNowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace walcache

#endif  // WALCACHE_UTIL_HISTOGRAM_H_
