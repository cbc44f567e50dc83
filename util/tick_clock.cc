// TickClock::Calibrate (see util/tick_clock.h). Not thread-safe (once, before use).
#include "util/tick_clock.h"

namespace walcache {

void TickClock::ReadPair(uint64_t* ticks, uint64_t* ns) {
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 8 && best_gap > 1'000; ++i) {
    const uint64_t before = SteadyNowNs();
    const uint64_t t = Now();
    const uint64_t after = SteadyNowNs();
    if (after - before < best_gap) {
      best_gap = after - before;
      *ticks = t;
      *ns = before + best_gap / 2;
    }
  }
}

void TickClock::Calibrate() {
  while (SteadyNowNs() - start_ns_ < kMinCalibrationNs) {
    // rarely: an open takes longer
  }
  uint64_t ticks = 0, ns = 0;
  ReadPair(&ticks, &ns);
  if (ticks > start_ticks_ && ns > start_ns_) {
    ns_per_tick_ = static_cast<double>(ns - start_ns_) / static_cast<double>(ticks - start_ticks_);
  }
}

}  // namespace walcache
