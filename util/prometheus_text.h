// PrometheusText: builds a Prometheus text exposition (format 0.0.4, the one every Prometheus
// server scrapes: "# HELP", "# TYPE", then "name{label="value"} number" lines). It is written
// here rather than taken from prometheus-cpp so that users of the library need no dependency for
// a few hundred lines of text (docs/metrics.md).
//
//   PrometheusText t;
//   t.Family("walcache_commits_total", "counter", "Transactions committed.");
//   t.Sample("walcache_commits_total", {}, uint64_t{42});
//   std::string text = t.Take();
//
// Thread-safety: not thread-safe; one builder per thread.
#ifndef WALCACHE_UTIL_PROMETHEUS_TEXT_H_
#define WALCACHE_UTIL_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "walcache/histogram.h"

namespace walcache {

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // Starts a metric family: its # HELP and # TYPE lines. `type`: counter, gauge or histogram.
  // Its samples follow (Sample, or HistogramSamples for a histogram), before the next family.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line. Label values are escaped (\\, \", \n).
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, uint64_t value);  // exact
  // A histogram's samples: NAME_bucket{...,le="B"} (cumulative, ending with le="+Inf"), NAME_sum
  // and NAME_count. Each bound and the sum are multiplied by `scale` (1e-9: nanoseconds to the
  // seconds Prometheus expects).
  void HistogramSamples(std::string_view name, const Labels& labels, const Histogram& h,
                        double scale);
  // A counter, or a gauge, with its family and one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, uint64_t value);
  void Gauge(std::string_view name, std::string_view help, double value);

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace walcache

#endif  // WALCACHE_UTIL_PROMETHEUS_TEXT_H_
