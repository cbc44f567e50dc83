// SPDX-License-Identifier: Apache-2.0
// walcache::Snapshot — a consistent read view of a Cache at one updateId (Cache::GetSnapshot).
//
// Every read through a snapshot shows the cache exactly as it was after the transaction with
// the snapshot's update_id() and none after it — memory and RocksDB alike, read-through keys
// included — for as long as the snapshot lives, and decides expiry at the one instant the
// snapshot was taken: an entry live then is shown even after its TTL runs out. So a derived
// entry read through a snapshot together with its sources always finds them at exactly its
// related updateIds (or finds itself absent).
//
// Cost of holding one: nothing on the read path of the Cache; memory keeps the versions of keys
// changed since the checkpoint the snapshot's RocksDB view holds (they are neither evicted nor
// trimmed until it closes, and may take memory beyond Options::memory_budget_bytes), RocksDB
// keeps on disk what later checkpoints overwrite, and the expiry filter drops nothing that
// expired after the oldest open snapshot was taken. Release snapshots soon; a long-lived one is
// a leak of both memory and disk.
//
// Lifetime: may outlive its Cache; reads then return Aborted. A snapshot of a cache whose
// RocksDB had to be reopened after a write error (see Cache::health) ends: reads return Aborted.
// Thread-safety: a Snapshot may be read from several threads at once; moving or destroying it
// needs exclusive access.
#ifndef WALCACHE_SNAPSHOT_H_
#define WALCACHE_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "walcache/export.h"
#include "walcache/result.h"
#include "walcache/status.h"
#include "walcache/types.h"

namespace walcache {

namespace engine {
struct Lifeline;
}  // namespace engine

class WALCACHE_EXPORT Snapshot {
 public:
  Snapshot(Snapshot&&) noexcept;
  Snapshot& operator=(Snapshot&&) noexcept;  // releases the snapshot this object held first
  ~Snapshot();

  // The newest transaction the snapshot shows (Cache::Stats().last_seq when it was taken).
  uint64_t update_id() const;

  // The entry of `key` in the snapshot. NotFound if absent or expired at the snapshot's
  // instant (an empty key is NotFound too); IOError or Corruption from RocksDB; Aborted if the
  // snapshot ended (see above) or this object was moved from.
  Result<Entry> Get(std::string_view key) const;
  // Get for each key, in the same order; nullopt where Get would be NotFound. The first other
  // error fails the whole call.
  Result<std::vector<std::optional<Entry>>> MultiGet(
      const std::vector<std::string_view>& keys) const;
  // Visits the snapshot's entries whose keys start with `prefix`, in key order, until `visit`
  // returns false. Matches are collected first (memory grows with them), so `visit` may call
  // the cache. Get's errors.
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view key, const Entry& e)>& visit) const;

 private:
  friend class Cache;
  struct State;  // engine/snapshot.cc
  explicit Snapshot(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;  // null: moved from
};

}  // namespace walcache

#endif  // WALCACHE_SNAPSHOT_H_
