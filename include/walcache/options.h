// Options of a walcache::Cache. The defaults suit a service out of the box.
// Thread-safety: a plain value, copied into the Cache at Open.
#ifndef WALCACHE_OPTIONS_H_
#define WALCACHE_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "walcache/durability.h"

namespace walcache {

struct Options {
  // Durability of Put/Delete/Touch and of Commit() without an argument.
  Durability durability = Durability::kSync;
  // kBuffered commits are fdatasynced at most this long after their write.
  std::chrono::milliseconds sync_interval{100};

  // WAL segments rotate at this size; each is preallocated.
  uint64_t wal_segment_size = 64ull << 20;
  bool compression = true;             // LZ4 per WAL record, when it pays
  size_t compression_threshold = 256;  // bytes; smaller records are never compressed

  // Limits; a transaction over any of them is InvalidArgument and writes nothing.
  size_t max_key_size = 64 << 10;
  size_t max_value_size = 64 << 20;
  size_t max_related = 64;  // related keys of one entry

  // On every Get, check the entry's related keys against their sources; a mismatch is counted
  // in Stats, logged, the entry is invalidated and the read is a miss (defence in depth).
  bool verify_related_on_read = false;

  // Open for reading only: nothing is written (no WAL, no checkpoint, no tail repair).
  bool read_only = false;

  // RocksDB block cache.
  size_t block_cache_bytes = 64 << 20;

  // The clock for TTLs, in milliseconds since the Unix epoch (tests set their own). Empty: the
  // system clock.
  std::function<uint64_t()> clock_ms;
};

}  // namespace walcache

#endif  // WALCACHE_OPTIONS_H_
