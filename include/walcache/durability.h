// Durability: how durable a commit is when it returns (docs/design.md §1).
#ifndef WALCACHE_DURABILITY_H_
#define WALCACHE_DURABILITY_H_

#include <cstdint>

namespace walcache {

enum class Durability : uint8_t {
  // Returns after the WAL record is on stable storage (fdatasync). Concurrent commits share one
  // fdatasync (group commit). Survives power loss.
  kSync = 0,
  // Returns after the record reached the OS (write). A background flusher syncs at a set
  // interval; a power loss loses at most a suffix of history.
  kBuffered = 1,
};

}  // namespace walcache

#endif  // WALCACHE_DURABILITY_H_
