// AtomicHistogram (util/histogram.h) and the public Histogram's summaries
// (include/walcache/histogram.h). Thread-safe.
#include "util/histogram.h"

#include <algorithm>

namespace walcache {

double Histogram::Mean() const {
  return count == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(count);
}

double Histogram::Percentile(double percent) const {
  if (count == 0 || upper_bounds.empty() || counts.size() != upper_bounds.size() + 1) return 0.0;
  const double rank = std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count);
  double below = 0;  // values in the buckets before i
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    const double in = static_cast<double>(counts[i]);
    if (in > 0 && below + in >= rank) {
      const double lo = i == 0 ? 0.0 : static_cast<double>(upper_bounds[i - 1]);
      const double hi = static_cast<double>(upper_bounds[i]);
      return lo + (hi - lo) * std::max(0.0, rank - below) / in;
    }
    below += in;
  }
  return static_cast<double>(upper_bounds.back());
}

AtomicHistogram::AtomicHistogram(int max_log2) : finite_(std::clamp(max_log2, 0, kMaxLog2) + 2) {}

int AtomicHistogram::StripeOfThisThread() {
  static std::atomic<unsigned> next{0};
  thread_local const int stripe =
      static_cast<int>(next.fetch_add(1, std::memory_order_relaxed) % kStripes);
  return stripe;
}

Histogram AtomicHistogram::Snapshot() const {
  Histogram h;
  h.upper_bounds.reserve(finite_);
  h.upper_bounds.push_back(0);
  for (int i = 1; i < finite_; ++i) h.upper_bounds.push_back(uint64_t{1} << (i - 1));
  h.counts.assign(finite_ + 1, 0);
  for (const Stripe& s : stripes_) {
    for (int i = 0; i <= finite_; ++i) h.counts[i] += s.buckets[i].load(std::memory_order_relaxed);
    h.sum += s.sum.load(std::memory_order_relaxed);
  }
  for (uint64_t c : h.counts) h.count += c;
  return h;
}

}  // namespace walcache
