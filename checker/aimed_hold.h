// The aimed hold: stops one chosen thread at one kill point on purpose and keeps it there until
// the thread that aimed it lets go, so that a window a race opens for microseconds is held open
// while the checker fills it with the work that exposes a defect:
//   - a read-through held at "engine.read_through", between its RocksDB read and its fill, while
//     the key is rewritten, checkpointed and evicted (a fill that ignores the erase generation
//     then caches the old copy, and the next read serves it);
//   - a commit held at "engine.logged", logged but not yet visible, while a checkpoint pins and
//     stores its expiry horizon (a horizon taken from the clock and not from the oldest
//     transaction in flight then lets the expiry filter drop what that commit touched), or while
//     a checkpoint deletes the segments it covers (the held commit being the last record of a
//     full segment: a deletion that counts one record too many takes it).
// The read hold (read_hold.h) stretches reads at random; this one aims.
//
// An AimedHold holds one target: Arm, start the target (an AimedHold::Target scope on its
// thread), WaitHeld, do the work, Release. Several may be armed at once, each for its own target.
// The target is held at the first pass through its point only, and for `max_hold` at the most
// (the work may need what the held thread holds up; after the timeout the window is simply
// missed). The kill-point handler must call AimedHold::AtKillPoint.
//
// Thread-safety: Arm, WaitHeld and Release from one thread at a time; AtKillPoint from any.
#ifndef WALCACHE_CHECKER_AIMED_HOLD_H_
#define WALCACHE_CHECKER_AIMED_HOLD_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "util/kill_point.h"

namespace walcache::checker {

class AimedHold {
 public:
  // While it lives, the calling thread's first pass through `point` is held by `hold`.
  class Target {
   public:
    Target(AimedHold* hold, KillPoint point);
    ~Target();  // tells WaitHeld the target is done, held or not
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;

   private:
    AimedHold* const hold_;
  };

  // Opens the hold anew, for at most `max_hold`; call it before the target starts.
  void Arm(std::chrono::milliseconds max_hold);
  // Waits until the target is held (true) or its scope ended without reaching the point, or
  // `timeout` passed (false: no window; Release anyway).
  bool WaitHeld(std::chrono::milliseconds timeout);
  // Lets the target go. Returns false if the hold had already timed out (the window closed
  // before the work was done).
  bool Release();

  // For the kill-point handler: holds the calling thread if it is an armed target at its point.
  static void AtKillPoint(const char* name);

 private:
  void Hold();

  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;      // the target reached its point and waits
  bool released_ = false;  // Release() came, or the hold timed out
  bool ended_ = false;     // the target's scope ended
  std::chrono::milliseconds max_hold_{0};
};

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_AIMED_HOLD_H_
