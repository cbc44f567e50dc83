// `walcache bench --workload hit-ratio`: the study behind the eviction policy (docs/eviction.md).
// Replays the same request traces (Zipfian, and Zipfian with a one-pass scan mixed in) through
// LRU, CLOCK and the engine's own S3Fifo at several cache sizes and reports hit ratios; then runs
// Zipfian Gets against a real Cache whose memory budget holds a tenth of its keys and reports the
// hit ratio its Stats measured, next to the simulated one.
// Thread-safety: single-threaded.
#ifndef WALCACHE_TOOLS_HIT_RATIO_H_
#define WALCACHE_TOOLS_HIT_RATIO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "walcache/result.h"

namespace walcache::tools {

struct HitRatioSpec {
  uint64_t keys = 100'000;        // distinct keys of the Zipfian part
  uint64_t requests = 1'000'000;  // per trace
  size_t value_size = 100;        // for the engine run
  std::string dir;                // for the engine run (empty: skip it)
};

struct HitRatioRow {
  std::string trace;          // e.g. "zipf-0.99", "zipf-0.99+scan"
  std::string policy;         // "lru", "clock", "s3fifo", "engine"
  double cache_fraction = 0;  // capacity / keys
  double hit_ratio = 0;
};

Result<std::vector<HitRatioRow>> RunHitRatioStudy(const HitRatioSpec& spec);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_HIT_RATIO_H_
