// Kill points (see kill_point.h).
#include "util/kill_point.h"

namespace walcache {

namespace internal {
std::atomic<KillPointHandler> kill_point_handler{nullptr};
}  // namespace internal

KillPointHandler SetKillPointHandler(KillPointHandler handler) {
  return internal::kill_point_handler.exchange(handler);
}

}  // namespace walcache
