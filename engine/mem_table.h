// MemTable: the in-memory map of the cache. Each key holds a short list of versions, one per
// transaction that changed it and that no reader may have stopped needing yet: a version is
// (seq, entry or tombstone). Readers ask for the newest version at or below the visible
// watermark, so a transaction's changes appear to them all at once, and only once durable; the
// sequencer asks for the newest version of all (max_seq = UINT64_MAX), so it validates against
// every transaction ordered before it.
//
// A key is dirty while it has a version newer than the checkpoint sequence; only clean keys may
// ever be dropped from memory. Versions loaded from RocksDB (read-through) get seq 0: older than
// any transaction the store does not already contain.
//
// Readers load the visible watermark inside the shard lock, after any Add that trimmed versions
// below it, so the version they need is never trimmed away under them.
//
// Thread-safety: thread-safe; sharded, one mutex a shard. Add must be called by one thread at a
// time (the sequencer holds the commit mutex).
#ifndef WALCACHE_ENGINE_MEM_TABLE_H_
#define WALCACHE_ENGINE_MEM_TABLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/entry.h"

namespace walcache::engine {

struct Version {
  uint64_t seq = 0;
  std::optional<Entry> entry;  // empty: a tombstone (deleted or invalidated at seq)
};

class MemTable {
 public:
  // `visible` is the watermark readers see up to; it must outlive the table.
  explicit MemTable(const std::atomic<uint64_t>* visible, size_t shards = 64);

  // The newest version of `key` that readers may see (seq <= the visible watermark); empty when
  // memory does not know the key (the caller reads through to RocksDB).
  std::optional<Version> Read(std::string_view key) const;
  // The newest version of all, visible or not (for the sequencer).
  std::optional<Version> ReadLatest(std::string_view key) const;

  // Adds the version of a transaction; the key becomes dirty. Versions older than the newest one
  // at or below `keep` are dropped on the way (keep = min(visible, a running checkpoint's seq)).
  // REQUIRES: v.seq is greater than every version the key has.
  void Add(std::string_view key, Version v, uint64_t keep);

  // Read-through protocol: take erase_generation() before reading RocksDB, then Fill with it.
  // Fill caches the entry as version 0 unless memory learned of the key meanwhile, and returns
  // what readers see of the key (the entry itself if memory holds only invisible versions). Returns
  // false (nothing cached, retry the read) if memory dropped a key since `generation`: the RocksDB
  // read may predate the checkpoint that let it.
  uint64_t erase_generation() const { return erase_gen_.load(std::memory_order_acquire); }
  bool Fill(std::string_view key, Entry e, uint64_t generation, std::optional<Version>* seen);

  // Calls `visit` for every dirty key with its newest version at or below `seq` (none: skipped).
  void ForEachDirty(
      uint64_t seq,
      const std::function<void(const std::string& key, const Version& v)>& visit) const;

  // After a checkpoint at `seq`: keys with no version newer than `seq` become clean; versions
  // the checkpoint made redundant are dropped; tombstones at or below it leave memory.
  void MarkCheckpointed(uint64_t seq);

  // Calls `visit` for every key starting with `prefix` with what readers see of it.
  void ForEachPrefix(
      std::string_view prefix,
      const std::function<void(const std::string& key, const Version& v)>& visit) const;

  size_t keys() const;
  size_t dirty_keys() const;

 private:
  struct Slot {
    std::vector<Version> versions;  // ascending seq
    bool dirty = false;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Slot> map;
  };

  Shard& ShardOf(std::string_view key) const;
  static const Version* NewestAtOrBelow(const Slot& s, uint64_t max_seq);

  const std::atomic<uint64_t>* const visible_;
  std::atomic<uint64_t> erase_gen_{0};
  std::vector<Shard> shards_;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_MEM_TABLE_H_
