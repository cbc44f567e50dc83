// Kill points: named places in walcache's own code where a test or the crash checker may stop
// the process (DESIGN.md §6). Compiled into every build; a disabled point costs one relaxed
// atomic load. A handler, once installed, is called with the point's name at every point
// reached and decides (e.g. with seeded odds) whether to _exit there.
//
//   WALCACHE_KILL_POINT("checkpoint.after_store_write");
//
// Thread-safety: thread-safe; the handler must be.
#ifndef WALCACHE_UTIL_KILL_POINT_H_
#define WALCACHE_UTIL_KILL_POINT_H_

#include <atomic>

namespace walcache {

using KillPointHandler = void (*)(const char* name);

namespace internal {
extern std::atomic<KillPointHandler> kill_point_handler;
}  // namespace internal

// Installs `handler` (nullptr disables every point). Returns the previous one.
KillPointHandler SetKillPointHandler(KillPointHandler handler);

}  // namespace walcache

#define WALCACHE_KILL_POINT(name)                                                 \
  do {                                                                            \
    ::walcache::KillPointHandler _wc_kp =                                         \
        ::walcache::internal::kill_point_handler.load(std::memory_order_relaxed); \
    if (_wc_kp != nullptr) _wc_kp(name);                                          \
  } while (0)

#endif  // WALCACHE_UTIL_KILL_POINT_H_
