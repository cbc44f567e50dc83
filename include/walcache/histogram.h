// SPDX-License-Identifier: Apache-2.0
// Histogram: a snapshot of one of the cache's distributions (latencies, group sizes), as
// CacheStats carries them (docs/metrics.md). The buckets are fixed powers of two, so that
// counting a value on the hot path is two atomic additions and no lock.
//
// Thread-safety: a plain value.
#ifndef WALCACHE_HISTOGRAM_H_
#define WALCACHE_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "walcache/export.h"

namespace walcache {

struct WALCACHE_EXPORT Histogram {
  // Bucket i counts the values v with upper_bounds[i - 1] < v <= upper_bounds[i] (bucket 0: v <=
  // upper_bounds[0]); the last bucket, counts.back(), counts those above every bound (+Inf).
  // So counts.size() == upper_bounds.size() + 1. The bounds are 0, 1, 2, 4, 8, ... in the
  // histogram's unit (nanoseconds for latencies, records for group sizes).
  std::vector<uint64_t> upper_bounds;
  std::vector<uint64_t> counts;
  uint64_t count = 0;  // the sum of counts
  uint64_t sum = 0;    // the sum of the values counted (read apart from the counts: while values
                       // are being counted, it may be a few values ahead of or behind them)

  // sum / count; 0 when empty.
  double Mean() const;
  // The value below which `percent` percent (0..100) of the counted values fall, interpolated
  // linearly inside the bucket that holds it: exact to within that bucket's bounds (a factor of
  // two). 0 when empty; a rank in the +Inf bucket gives the last bound.
  double Percentile(double percent) const;
};

}  // namespace walcache

#endif  // WALCACHE_HISTOGRAM_H_
