// MemTable: the in-memory map of the cache. Each key holds a short list of versions, one per
// transaction that changed it and that no reader may have stopped needing yet: a version is
// (seq, entry or tombstone). Readers ask for the newest version at or below the visible
// watermark, so a transaction's changes appear to them all at once, and only once durable; the
// sequencer asks for the newest version of all (max_seq = UINT64_MAX), so it validates against
// every transaction ordered before it.
//
// A key is dirty while it has a version newer than the checkpoint sequence. Memory is bounded by
// a byte budget: each shard evicts clean keys (RocksDB holds exactly their version) in S3-FIFO
// order (engine/s3fifo.h) when over its share; dirty keys are never evicted, so a checkpoint is
// what lets a table full of dirty keys shrink. Versions loaded from RocksDB (read-through) get
// seq 0: older than any transaction the store does not already contain.
//
// Snapshots (engine/snapshots.h) read at a fixed seq S over RocksDB's view of checkpoint C <= S:
// from memory they take the newest version at or below S if it is newer than C. While any is
// open (SetPins), the versions they need stay: Add and MarkCheckpointed keep each snapshot's
// newest version at or below its S, and a key holding a version in (C, S] of some snapshot is
// pinned — neither evicted, nor swept, nor dropped as a checkpointed tombstone.
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
#include <vector>

#include "engine/entry.h"
#include "engine/flat_key_map.h"
#include "engine/s3fifo.h"

namespace walcache::engine {

struct Version {
  uint64_t seq = 0;
  std::optional<Entry> entry;  // empty: a tombstone (deleted or invalidated at seq)
};

struct MemTableStats {
  uint64_t keys = 0, dirty_keys = 0;
  uint64_t bytes = 0, dirty_bytes = 0;  // charged bytes (payload plus per-key overhead)
  uint64_t hits = 0, misses = 0;        // Read
  uint64_t fills = 0;                   // keys cached by Fill (read-through, prewarm)
  uint64_t evictions = 0;               // clean keys dropped for the budget
  uint64_t expired = 0;                 // clean keys dropped by Sweep
};

class MemTable {
 public:
  // `visible` is the watermark readers see up to; it must outlive the table. `budget_bytes` is
  // shared evenly by the shards.
  MemTable(const std::atomic<uint64_t>* visible, size_t budget_bytes, size_t shards = 64);

  // The shard count for a budget: 64 (for concurrency), but never so many that a shard's share
  // is below kMinShardBytes — a shard smaller than an entry caches nothing clean at all (every
  // fill would be evicted at once), so a small budget gets fewer, larger shards.
  static constexpr size_t kMinShardBytes = 256 << 10;
  static size_t ShardsFor(size_t budget_bytes);

  // The newest version of `key` that readers may see (seq <= the visible watermark); empty when
  // memory does not know the key (the caller reads through to RocksDB). Counts a hit or a miss.
  std::optional<Version> Read(std::string_view key) const;
  // The newest version of all, visible or not (for the sequencer).
  std::optional<Version> ReadLatest(std::string_view key) const;

  // What open snapshots need kept: versions newer than `floor` (the smallest checkpoint seq of
  // their RocksDB views) and at or below `top` (the largest S) pin their key, and the newest
  // version at or below each of `seqs` (their S) is never trimmed. No snapshots: the defaults.
  struct Pins {
    uint64_t floor = UINT64_MAX;
    uint64_t top = 0;
    std::vector<uint64_t> seqs;
  };
  void SetPins(const Pins& pins);

  // For a snapshot at `seq` over a RocksDB view of checkpoint `floor`: the newest version at or
  // below `seq` if it is newer than `floor`; empty: the view holds the key's state at `seq`.
  std::optional<Version> ReadAt(std::string_view key, uint64_t seq, uint64_t floor) const;
  // ReadAt for every key starting with `prefix` that memory answers for.
  void ForEachPrefixAt(
      std::string_view prefix, uint64_t seq, uint64_t floor,
      const std::function<void(const std::string& key, const Version& v)>& visit) const;

  // Adds the version of a transaction; the key becomes dirty. Versions older than the newest one
  // at or below `keep` are dropped on the way (keep = min(visible, a running checkpoint's seq)).
  // REQUIRES: v.seq is greater than every version the key has.
  void Add(std::string_view key, Version v, uint64_t keep);

  // Read-through protocol: take erase_generation(key) before reading RocksDB, then Fill with it.
  // Fill caches the entry as version 0 unless memory learned of the key meanwhile, and returns
  // what readers see of the key (the entry itself if memory holds only invisible versions).
  // Returns kRetry (nothing cached, retry the read) if memory dropped a key of the shard since
  // `generation`: the RocksDB read may predate the checkpoint that let it go. `warm`: the key is
  // known to be hot (prewarm) and is queued as such.
  enum class FillResult { kCached, kKnown, kRetry };  // kKnown: memory had the key; not cached
  uint64_t erase_generation(std::string_view key) const;
  FillResult Fill(std::string_view key, Entry e, uint64_t generation, std::optional<Version>* seen,
                  bool warm = false);

  // What a key holding just `e` is charged against the budget.
  static size_t EntryCharge(std::string_view key, const Entry& e);

  // Calls `visit` for every dirty key with its newest version at or below `seq` (none: skipped).
  void ForEachDirty(
      uint64_t seq,
      const std::function<void(const std::string& key, const Version& v)>& visit) const;

  // After a checkpoint at `seq`: keys with no version newer than `seq` become clean (evictable);
  // versions the checkpoint made redundant are dropped; tombstones at or below it leave memory.
  void MarkCheckpointed(uint64_t seq);

  // Drops clean keys whose entry expired at or before `now_ms`; returns how many.
  size_t Sweep(uint64_t now_ms);

  // Calls `visit` for every key starting with `prefix` with what readers see of it.
  void ForEachPrefix(
      std::string_view prefix,
      const std::function<void(const std::string& key, const Version& v)>& visit) const;

  // Cheap, approximate while writers run.
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t dirty_bytes() const { return dirty_bytes_.load(std::memory_order_relaxed); }
  uint64_t budget_bytes() const { return budget_; }
  MemTableStats Stats() const;

 private:
  struct Slot {
    std::vector<Version> versions;  // ascending seq
    bool dirty = false;
    const std::string* key = nullptr;  // the map node's own key
    S3Fifo<Slot>::Hook s3fifo;
  };
  // Lookups hash a key once: the shard takes the high bits, the shard's map the whole hash.
  struct HashedKey {
    std::string_view key;
    size_t hash;
  };
  struct Hash {
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  static HashedKey Hashed(std::string_view key) { return HashedKey{key, Hash()(key)}; }
  struct Shard {
    mutable std::mutex mu;
    FlatKeyMap<Slot> map;  // keyed by Hash()(key)
    S3Fifo<Slot> fifo{0};
    std::atomic<uint64_t> erase_gen{0};
    mutable uint64_t hits = 0, misses = 0;
    uint64_t fills = 0, evictions = 0, expired = 0;
  };

  Shard& ShardOf(size_t hash) const;
  Shard& ShardOf(std::string_view key) const { return ShardOf(Hash()(key)); }
  static const Version* NewestAtOrBelow(const Slot& s, uint64_t max_seq);
  static bool Pinned(const Slot& s, const Pins& p);
  // Drops the versions nobody needs: of those at or below `keep` only the newest stays, besides
  // the newest at or below each snapshot's seq. Versions above `keep` all stay.
  static void Trim(std::vector<Version>* vs, uint64_t keep, const Pins& p);
  Pins pins() const;
  static size_t ChargeOf(const Slot& s);
  // Finds or creates the slot of `key`, queued.
  Slot& SlotFor(Shard& sh, const HashedKey& k, bool warm);
  // The slot of a key the shard does not hold, queued. REQUIRES: sh.map has no node of k.
  Slot& NewSlot(Shard& sh, const HashedKey& k, bool warm);
  // Re-accounts `s` after its versions or dirty flag changed from (old_charge, was_dirty).
  void Settle(Shard& sh, Slot& s, size_t old_charge, bool was_dirty);
  // Removes `s` from the map (and its queue, if `queued`).
  void Erase(Shard& sh, Slot& s, bool queued);
  void EvictLocked(Shard& sh);

  const std::atomic<uint64_t>* const visible_;
  const size_t budget_;
  std::vector<Shard> shards_;
  std::atomic<uint64_t> bytes_{0}, dirty_bytes_{0};
  // Taken inside a shard lock; pins_active_ says whether pins_ differs from the defaults.
  mutable std::mutex pins_mu_;
  Pins pins_;
  std::atomic<bool> pins_active_{false};
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_MEM_TABLE_H_
