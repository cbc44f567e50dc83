// TickClock::Calibrate (see util/tick_clock.h). Not thread-safe (once, before use).
#include "util/tick_clock.h"

namespace walcache {

void TickClock::Calibrate() {
  uint64_t ns = SteadyNowNs();
  while (ns - start_ns_ < kMinCalibrationNs) ns = SteadyNowNs();  // rarely: an open is slower
  const uint64_t ticks = Now() - start_ticks_;
  if (ticks > 0) ns_per_tick_ = static_cast<double>(ns - start_ns_) / static_cast<double>(ticks);
}

}  // namespace walcache
