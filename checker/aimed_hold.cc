// The aimed hold (see aimed_hold.h).
#include "checker/aimed_hold.h"

#include <condition_variable>
#include <cstring>
#include <mutex>

namespace walcache::checker {
namespace {

struct Hold {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;      // the target reached its point and waits
  bool released = false;  // Release() came, or the hold timed out
  bool ended = false;     // the target's scope ended
  std::chrono::milliseconds max_hold{0};
};

Hold g_hold;
thread_local const char* tl_point = nullptr;  // the target's point, until its first pass

}  // namespace

AimedHold::Target::Target(KillPoint point) { tl_point = KillPointName(point); }

AimedHold::Target::~Target() {
  tl_point = nullptr;
  std::lock_guard<std::mutex> l(g_hold.mu);
  g_hold.ended = true;
  g_hold.cv.notify_all();
}

void AimedHold::Arm(std::chrono::milliseconds max_hold) {
  std::lock_guard<std::mutex> l(g_hold.mu);
  g_hold.held = g_hold.released = g_hold.ended = false;
  g_hold.max_hold = max_hold;
}

bool AimedHold::WaitHeld(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(g_hold.mu);
  g_hold.cv.wait_for(l, timeout, [] { return g_hold.held || g_hold.ended; });
  return g_hold.held && !g_hold.released;
}

bool AimedHold::Release() {
  std::lock_guard<std::mutex> l(g_hold.mu);
  const bool in_time = !g_hold.released;
  g_hold.released = true;
  g_hold.cv.notify_all();
  return in_time;
}

void AimedHold::AtKillPoint(const char* name) {
  if (tl_point == nullptr || std::strcmp(name, tl_point) != 0) return;
  tl_point = nullptr;  // the first pass only
  std::unique_lock<std::mutex> l(g_hold.mu);
  if (g_hold.released) return;  // a late target finds the window closed
  g_hold.held = true;
  g_hold.cv.notify_all();
  g_hold.cv.wait_for(l, g_hold.max_hold, [] { return g_hold.released; });
  g_hold.released = true;
}

}  // namespace walcache::checker
