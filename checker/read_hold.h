// The read hold: stretches some read-throughs on purpose. A read that misses memory reads
// RocksDB, then caches what it read (MemTable::Fill); meanwhile commits, checkpoints and
// evictions go on, and the fill must not cache a copy they made stale (say, the old value of a
// key whose delete a checkpoint just stored and whose tombstone eviction just dropped). Through
// the public API that window lasts microseconds; held at the kill point "engine.read_through"
// (util/kill_point.h) for up to a few milliseconds, and now and then for up to 50 ms,
// it spans whole commits, checkpoints and evictions, so an engine that fills blindly
// caches a stale copy, which later reads serve and the checker's read checks see.
//
// Only reads made inside a ReadHold::Reading scope on that thread are held, now and then: the
// kill-point handler must call ReadHold::AtKillPoint.
//
// Thread-safety: thread-safe; the scope and the odds are per thread.
#ifndef WALCACHE_CHECKER_READ_HOLD_H_
#define WALCACHE_CHECKER_READ_HOLD_H_

#include <cstdint>

namespace walcache::checker {

class ReadHold {
 public:
  // While it lives, this thread's read-throughs are held: each, one time in `one_in`, for a
  // drawn 0..max_us microseconds, and one time in `long_one_in` for up to long_max_us.
  class Reading {
   public:
    explicit Reading(uint32_t one_in = 32, uint32_t max_us = 2'000, uint32_t long_one_in = 1'024,
                     uint32_t long_max_us = 50'000);
    ~Reading();
    Reading(const Reading&) = delete;
    Reading& operator=(const Reading&) = delete;
  };

  // How many read-throughs this thread has been held at so far. A reader reads a held key again
  // at once: a stale copy the fill cached is served then, to a read that began after the commit
  // that made it stale returned (evictions under a small budget soon drop it otherwise).
  static uint64_t HeldOnThisThread();

  // For the kill-point handler: holds the calling thread if `name` is "engine.read_through",
  // the thread is inside a Reading and the odds say so. Returns at once otherwise.
  static void AtKillPoint(const char* name);
};

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_READ_HOLD_H_
