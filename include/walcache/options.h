// Options of a walcache::Cache. The defaults suit a service out of the box.
// Thread-safety: a plain value, copied into the Cache at Open.
#ifndef WALCACHE_OPTIONS_H_
#define WALCACHE_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "walcache/durability.h"
#include "walcache/log.h"

namespace walcache {

struct Options {
  // Durability of Put/Delete/Touch and of Commit() without an argument.
  Durability durability = Durability::kSync;
  // kBuffered commits are fdatasynced at most this long after their write.
  std::chrono::milliseconds sync_interval{100};

  // WAL segments rotate at this size; each is preallocated.
  uint64_t wal_segment_size = 64ull << 20;
  // Change feed retention (docs/change-feed.md): checkpoints keep the newest WAL segments they
  // could delete while those after them hold fewer than this many bytes (segment files, as
  // preallocated), so Cache::Changes can serve a position that far back. The disk cost is up to
  // this many bytes plus one segment beside what the WAL holds anyway. Unset: the directory's
  // setting (DIR/FEED; 0 for a cache without one), which is how `walcache compact` and the other
  // tools keep it; set (0 too), it becomes the directory's setting. Consumer positions
  // (Cache::SetFeedPosition) keep segments besides.
  std::optional<uint64_t> wal_retention_bytes;
  bool compression = true;             // LZ4 per WAL record, when it pays
  size_t compression_threshold = 256;  // bytes; smaller records are never compressed

  // Memory the in-memory map may use for entries (values, keys, related keys and per-key
  // overhead). Only clean entries (already in RocksDB) are evicted, in S3-FIFO order
  // (docs/eviction.md); misses read through from RocksDB and are cached. Dirty entries are never
  // evicted: a checkpoint starts when they reach half the budget, and commits wait while they
  // fill all of it.
  size_t memory_budget_bytes = 256 << 20;

  // Background checkpoints start when any trigger fires (0 disables that trigger): dirty entries
  // reach this many bytes (at most half the memory budget), the WAL grew by this many bytes
  // since the last checkpoint, or this much time passed since it. Checkpoint() and close
  // checkpoint regardless.
  size_t checkpoint_dirty_bytes = 64 << 20;
  uint64_t checkpoint_wal_bytes = 256ull << 20;
  std::chrono::milliseconds checkpoint_interval{60'000};

  // Expired entries leave memory at this period (RocksDB drops them as it compacts).
  std::chrono::milliseconds expiry_sweep_interval{1'000};

  // After recovery, load up to this many bytes of the most recently updated entries from RocksDB
  // into memory (capped by the memory budget). Open then reads the whole store once, so the
  // default is off.
  size_t prewarm_bytes = 0;

  // Limits; a transaction over any of them is InvalidArgument and writes nothing.
  size_t max_key_size = 64 << 10;
  size_t max_value_size = 64 << 20;
  size_t max_related = 64;  // related keys of one entry

  // On every Get, check the entry's related keys against their sources; a mismatch is counted
  // in Stats, logged, the entry is invalidated and the read is a miss (defence in depth).
  bool verify_related_on_read = false;

  // Open for reading only: nothing is written (no WAL, no checkpoint, no tail repair), and
  // nothing is created: the two options below do not apply.
  bool read_only = false;
  // When the directory holds no cache yet (it is missing, or has no rocksdb/ in it), Open makes
  // one there, creating the directory and any missing parents (mode 0700). Off: Open returns
  // NotFound for a missing directory and InvalidArgument for one that holds no cache.
  bool create_if_missing = true;
  // Open returns InvalidArgument when the directory already holds a cache.
  bool error_if_exists = false;

  // RocksDB block cache.
  size_t block_cache_bytes = 64 << 20;
  // RocksDB's memtable size (its write_buffer_size): checkpoints fill it, and a full one is
  // flushed to a table file, which in turn leads to compactions.
  size_t write_buffer_bytes = 64 << 20;

  // The clock for TTLs, in milliseconds since the Unix epoch (tests set their own). Empty: the
  // system clock. A transaction reads it once, when it is sequenced: its TTLs count from that
  // instant and every expiry decision in it is made at it. Within a process the cache's time
  // never goes back: a clock stepped back stops it until the clock catches up. Across a reopen it
  // starts no earlier than the last checkpoint's expiry horizon (a clean close checkpoints at
  // the time of the close; after a crash, time since the last checkpoint can be lived again if
  // the clock was stepped back meanwhile).
  std::function<uint64_t()> clock_ms;

  // Where the library's messages go (walcache/log.h: what it logs, from which threads, and what
  // the hook may do). Empty: stderr, one "walcache: " line each.
  LogFunction log;
};

}  // namespace walcache

#endif  // WALCACHE_OPTIONS_H_
