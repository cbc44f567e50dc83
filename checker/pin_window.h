// The pin window: runs work between a checkpoint's pin and the compaction Compact() runs after
// it, on purpose rather than by luck. A Touch logged there extends an entry whose stored copy
// the checkpoint does not replace, so the compaction's expiry filter meets the old copy while
// only the WAL holds the new expiry: an engine whose filter drops by the clock and not by the
// stored horizon loses the Touch at the next death (docs/design.md trap 4, docs/engine.md "Time").
//
// It holds the checkpoint still at the kill point "checkpoint.pinned" (util/kill_point.h): the
// process's kill-point handler must call PinWindow::AtKillPoint first. Only the checkpoint of
// the Compact() that CompactAround starts is held, and for `max_hold` at the most — a commit
// the work makes may stall until some checkpoint frees memory (engine/maintenance.cc), and the
// held one is the checkpoint it would wait for; after the timeout the window is simply missed.
//
// Thread-safety: CompactAround may be called from one thread at a time; AtKillPoint from any.
#ifndef WALCACHE_CHECKER_PIN_WINDOW_H_
#define WALCACHE_CHECKER_PIN_WINDOW_H_

#include <chrono>
#include <functional>

#include "walcache/cache.h"
#include "walcache/status.h"

namespace walcache::checker {

class PinWindow {
 public:
  // What CompactAround did.
  struct Outcome {
    Status compact;          // Compact()'s result
    bool inside = false;     // `work` ran while the checkpoint was held at its pin
    bool timed_out = false;  // the hold ended before `work` returned
  };

  // Runs c->Compact() on a thread of its own and, once its checkpoint has pinned, `work` on the
  // calling thread while that checkpoint waits (max_hold at most); then lets Compact() finish
  // and returns. If the checkpoint never pins (a failed cache), `work` does not run.
  static Outcome CompactAround(Cache* c, const std::function<void()>& work,
                               std::chrono::milliseconds max_hold = std::chrono::milliseconds(200));

  // While on, every checkpoint that reaches its pin waits there (5 s at most) until it is off
  // again: nothing deletes a WAL segment meanwhile, so a reader may list and read the log.
  static void HoldEveryCheckpoint(bool on);

  // For the kill-point handler: holds the calling thread if it is the armed checkpoint at
  // "checkpoint.pinned", or if every checkpoint is held. Returns at once otherwise.
  static void AtKillPoint(const char* name);
};

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_PIN_WINDOW_H_
