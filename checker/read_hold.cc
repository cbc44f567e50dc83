// The read hold (see read_hold.h).
#include "checker/read_hold.h"

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "util/kill_point.h"

namespace walcache::checker {
namespace {

struct ThreadState {
  int depth = 0;  // nested Reading scopes
  uint64_t held = 0;
  uint32_t one_in = 32, max_us = 2'000, long_one_in = 1'024, long_max_us = 50'000;
  std::minstd_rand rng{
      static_cast<uint32_t>(std::hash<std::thread::id>()(std::this_thread::get_id()))};
};
thread_local ThreadState tl;

}  // namespace

ReadHold::Reading::Reading(uint32_t one_in, uint32_t max_us, uint32_t long_one_in,
                           uint32_t long_max_us) {
  if (tl.depth++ == 0) {
    tl.one_in = one_in == 0 ? 1 : one_in;
    tl.max_us = max_us;
    tl.long_one_in = long_one_in == 0 ? 1 : long_one_in;
    tl.long_max_us = long_max_us;
  }
}

ReadHold::Reading::~Reading() { --tl.depth; }

uint64_t ReadHold::HeldOnThisThread() { return tl.held; }

void ReadHold::AtKillPoint(const char* name) {
  if (tl.depth == 0 || std::strcmp(name, KillPointName(KillPoint::kEngineReadThrough)) != 0) {
    return;
  }
  uint32_t max_us = 0;
  if (tl.rng() % tl.long_one_in == 0) {
    max_us = tl.long_max_us;
  } else if (tl.rng() % tl.one_in == 0) {
    max_us = tl.max_us;
  } else {
    return;
  }
  ++tl.held;
  std::this_thread::sleep_for(std::chrono::microseconds(tl.rng() % (max_us + 1)));
}

}  // namespace walcache::checker
