// The pin window (see pin_window.h).
#include "checker/pin_window.h"

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "util/kill_point.h"

namespace walcache::checker {
namespace {

// One window at a time (CompactAround's contract); the compacting thread is marked by
// tl_armed, so no other checkpoint (the maintenance thread's, a workload's) is ever held.
struct Window {
  std::mutex mu;
  std::condition_variable cv;
  bool pinned = false;    // the armed checkpoint reached its pin
  bool released = false;  // the work is done (or the hold timed out)
  bool finished = false;  // Compact() returned
  std::chrono::milliseconds max_hold{0};
};

Window g_window;
thread_local bool tl_armed = false;

std::mutex g_all_mu;
std::condition_variable g_all_cv;
bool g_hold_all = false;  // guarded by g_all_mu

}  // namespace

void PinWindow::HoldEveryCheckpoint(bool on) {
  std::lock_guard<std::mutex> l(g_all_mu);
  g_hold_all = on;
  g_all_cv.notify_all();
}

void PinWindow::AtKillPoint(const char* name) {
  if (std::strcmp(name, KillPointName(KillPoint::kCheckpointPinned)) != 0) return;
  {
    std::unique_lock<std::mutex> l(g_all_mu);
    g_all_cv.wait_for(l, std::chrono::seconds(5), [] { return !g_hold_all; });
  }
  if (!tl_armed) return;
  tl_armed = false;  // the first pin only
  std::unique_lock<std::mutex> l(g_window.mu);
  g_window.pinned = true;
  g_window.cv.notify_all();
  g_window.cv.wait_for(l, g_window.max_hold, [] { return g_window.released; });
  g_window.released = true;  // a late work finds the window closed
}

PinWindow::Outcome PinWindow::CompactAround(Cache* c, const std::function<void()>& work,
                                            std::chrono::milliseconds max_hold) {
  {
    std::lock_guard<std::mutex> l(g_window.mu);
    g_window.pinned = g_window.released = g_window.finished = false;
    g_window.max_hold = max_hold;
  }
  Outcome out;
  std::thread compact([&] {
    tl_armed = true;
    out.compact = c->Compact();
    tl_armed = false;
    std::lock_guard<std::mutex> l(g_window.mu);
    g_window.finished = true;
    g_window.cv.notify_all();
  });
  bool run = false;
  {
    std::unique_lock<std::mutex> l(g_window.mu);
    g_window.cv.wait(l, [] { return g_window.pinned || g_window.finished; });
    run = g_window.pinned && !g_window.released;
  }
  if (run) {
    work();
    std::lock_guard<std::mutex> l(g_window.mu);
    out.inside = true;
    out.timed_out = g_window.released;  // the checkpoint went on before the work returned
    g_window.released = true;
    g_window.cv.notify_all();
  }
  compact.join();
  return out;
}

}  // namespace walcache::checker
