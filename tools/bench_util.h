// Shared pieces of the `walcache bench` workloads: a thread pool runner that records per-op
// latencies, percentiles, and value generation. Header-only; used by tools/ only.
#ifndef WALCACHE_TOOLS_BENCH_UTIL_H_
#define WALCACHE_TOOLS_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench_workloads.h"
#include "util/status_macros.h"

namespace walcache::tools {

using Clock = std::chrono::steady_clock;

// A value that is half random, half repeated: LZ4 finds something to do but not everything.
inline std::string ValueFor(std::mt19937_64* rng, size_t size) {
  std::string v(size, 'v');
  for (size_t i = 0; i < size / 2; ++i) v[i] = static_cast<char>((*rng)() & 0xff);
  return v;
}

inline void Percentiles(std::vector<double>* lat, WorkloadResult* r) {
  if (lat->empty()) return;
  std::sort(lat->begin(), lat->end());
  r->p50_us = (*lat)[lat->size() / 2];
  r->p99_us = (*lat)[std::min(lat->size() - 1, lat->size() * 99 / 100)];
}

// Runs body(thread, i) for i in [0, per_thread) on `threads` threads; collects the latencies
// in us of every `sample_every`-th op (for ops of a few hundred ns, timing each one would time
// the clock as much as the op).
template <typename Body>
Status RunThreads(int threads, uint64_t ops, std::vector<double>* latencies, double* seconds,
                  Body body, uint64_t sample_every = 1) {
  std::vector<std::vector<double>> lat(threads);
  std::vector<Status> errors(threads);
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    const uint64_t n = ops / threads + (static_cast<uint64_t>(t) < ops % threads ? 1 : 0);
    pool.emplace_back([&, t, n] {
      // A local vector: the inner vectors' headers share cache lines, and writing them from
      // every thread would time the harness's false sharing, not the engine.
      std::vector<double> mine;
      mine.reserve(n / sample_every + 1);
      for (uint64_t i = 0; i < n; ++i) {
        if (i % sample_every != 0) {
          Status s = body(t, i);
          if (!s.ok()) {
            errors[t] = s;
            break;
          }
          continue;
        }
        const auto t0 = Clock::now();
        Status s = body(t, i);
        if (!s.ok()) {
          errors[t] = s;
          break;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      lat[t] = std::move(mine);
    });
  }
  for (std::thread& th : pool) th.join();
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const Status& s : errors) WALCACHE_RETURN_IF_ERROR(s);
  for (auto& v : lat) latencies->insert(latencies->end(), v.begin(), v.end());
  return Status::OK();
}

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_UTIL_H_
