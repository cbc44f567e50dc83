// MetricsText: a live cache's CacheStats as a Prometheus text exposition (format 0.0.4), the
// text of Cache::MetricsText(). Every metric is named in docs/metrics.md; counters end in
// _total, latencies are histograms in seconds.
//
// Thread-safety: a pure function.
#ifndef WALCACHE_ENGINE_METRICS_TEXT_H_
#define WALCACHE_ENGINE_METRICS_TEXT_H_

#include <string>

#include "walcache/cache.h"

namespace walcache::engine {

std::string MetricsText(const CacheStats& s);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_METRICS_TEXT_H_
