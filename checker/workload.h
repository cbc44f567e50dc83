// The checker's transaction generator: random op sequences over a small key space, meant to
// reach every transaction a user can write rather than a few shapes — any order of Put, Delete,
// Invalidate, Touch, Expect and ExpectAbsent; entries derived from sources read now, from
// sources written earlier in the same transaction (update_id 0) and from sources changed later
// in it; chains built inside one transaction; the same key several times; TTLs from a few
// milliseconds to seconds, touches that lengthen, shorten and clear; stale updateIds, so that
// conflicts happen; self-references and over-limit related lists, so that invalid transactions
// happen; and no-op transactions.
//
// Keys: "s<n>" (sources), "d<n>" (derived), "m<n>" (independent); values "v<txn id>" with one
// letter after it (protocol.h's TxnOfValue), never empty, never with a space.
//
// Thread-safety: a Generator is used by one thread; `read` is called on it.
#ifndef WALCACHE_CHECKER_WORKLOAD_H_
#define WALCACHE_CHECKER_WORKLOAD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "checker/model.h"
#include "walcache/cache.h"
#include "walcache/types.h"

namespace walcache::checker {

struct WorkloadShape {
  int sources = 8, derived = 8, multi = 4;
  int max_ops = 6;
  // TTLs in milliseconds: short ones expire within a cycle, long ones across deaths.
  uint64_t short_ttl_ms = 200, long_ttl_ms = 3000;
  // Over this many related keys a put is invalid (Options::max_related of the cache under test);
  // the generator exceeds it now and then. 0: never exceeds.
  size_t max_related = 4;
  // Every transaction has at least one Put, Delete or Invalidate (the crash test needs this: a
  // transaction with nothing to write is acknowledged with another's updateId).
  bool always_write = false;
  // Self-references and over-limit related lists now and then.
  bool invalid_ops = true;
};

// Where Touches aims: keys stored with an expiry before `now_ms + leap_ms`, touched so that
// what lengthens outlasts the leap — the clock about to jump `leap_ms` (pin_window.h).
struct TouchAim {
  uint64_t now_ms = 0;
  uint64_t leap_ms = 0;  // 0: no aim (any key shown expiring, TTLs of the shape)
};

class Generator {
 public:
  // What a reader sees of a key now: (update_id, expires_at) if live.
  using ReadFn = std::function<std::optional<Entry>(const std::string& key)>;

  explicit Generator(WorkloadShape shape) : shape_(shape) {}

  // One transaction with id `id`, drawing from `rng` and from what `read` returns now.
  Txn Next(std::mt19937_64& rng, uint64_t id, const ReadFn& read) const;

  // A transaction of touches (lengthen, shorten, mostly clear) of up to 4 keys that `read`
  // shows expiring, else of any, with a put if the shape says every transaction writes: a
  // service refreshing what it just read. Between a checkpoint and the compaction after it,
  // a logged Touch of an entry stored before. With an aim, prefers keys expiring within the
  // leap and lengthens past it.
  Txn Touches(std::mt19937_64& rng, uint64_t id, const ReadFn& read,
              const TouchAim& aim = {}) const;

  // A random key of the workload.
  std::string AnyKey(std::mt19937_64& rng) const;
  // Every key of the workload: sources, derived, then independent ones.
  std::vector<std::string> AllKeys() const;
  const WorkloadShape& shape() const { return shape_; }

 private:
  WorkloadShape shape_;
};

// Commits `t` on `c` as one Transaction under `durability`.
Result<uint64_t> CommitTxn(Cache* c, const Txn& t, Durability durability);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_WORKLOAD_H_
