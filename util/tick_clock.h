// TickClock: the cheap interval clock of the Get histograms. On x86-64 it reads the time-stamp
// counter (rdtsc, about 10 ns where std::chrono::steady_clock::now() costs 40-80 ns on the
// build machine's VM: the difference is most of the timing's cost on a Get served from memory);
// elsewhere it is the steady clock in nanoseconds. Ticks become nanoseconds at the rate measured
// between construction and Calibrate() against the steady clock (so it assumes an invariant TSC,
// which every x86-64 CPU of the last decade has, and Linux needs to use the TSC as its clock).
//
//   TickClock clock;              // at the start of something that takes a while (an open)
//   ...
//   clock.Calibrate();            // at its end; waits if less than kMinCalibrationNs passed
//   const uint64_t t0 = TickClock::Now();
//   ...
//   const uint64_t ns = clock.NsSince(t0);
//
// Thread-safety: Now and NsSince are thread-safe; Calibrate must happen before any NsSince call
// on another thread (the cache calibrates during its open, before returning it).
#ifndef WALCACHE_UTIL_TICK_CLOCK_H_
#define WALCACHE_UTIL_TICK_CLOCK_H_

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "util/histogram.h"

namespace walcache {

class TickClock {
 public:
  // The shortest interval Calibrate measures over: its error is then below 0.1%.
  static constexpr uint64_t kMinCalibrationNs = 100'000;

  TickClock() { ReadPair(&start_ticks_, &start_ns_); }

  static uint64_t Now() {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return SteadyNowNs();
#endif
  }

  void Calibrate();

  // Nanoseconds from `start` (a Now()) to now; 0 if the counter seems to have gone back (a
  // thread that moved to a core whose counter is slightly behind).
  uint64_t NsSince(uint64_t start) const {
    const uint64_t now = Now();
    return now > start ? static_cast<uint64_t>(static_cast<double>(now - start) * ns_per_tick_) : 0;
  }

  double ns_per_tick() const { return ns_per_tick_; }

 private:
  // A tick count and the steady time at the same instant: read between two steady-clock reads,
  // of a few tries the one whose reads were closest (a preemption between them is not taken for
  // time that passed).
  static void ReadPair(uint64_t* ticks, uint64_t* ns);

  uint64_t start_ticks_ = 0;
  uint64_t start_ns_ = 0;
  double ns_per_tick_ = 1.0;
};

}  // namespace walcache

#endif  // WALCACHE_UTIL_TICK_CLOCK_H_
