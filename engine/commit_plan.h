// The commit planner: what a transaction does, as a pure function of its ops, its seq and
// instant, and the state it reads — the validation (expectations, related updateIds, cycles),
// the cascading invalidations and the TTL clamps, computed into the one wal::Batch the commit
// logs and the effects it installs. The sequencer (engine/commit.cc) calls it under its lock with
// reads of the newest state; tests call it with a map (tests/commit_plan_test.cc).
//
// Semantics (docs/engine.md "Transactions"): the ops apply in order, each seeing the effects of
// the earlier ones; a write, delete, invalidate or touch of a key acts on every entry derived
// from it, transitively, including entries created earlier in the same transaction.
//
// Thread-safety: a pure function; `reads` are called on the caller's thread.
#ifndef WALCACHE_ENGINE_COMMIT_PLAN_H_
#define WALCACHE_ENGINE_COMMIT_PLAN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/batch_effects.h"
#include "engine/entry.h"
#include "engine/txn_op.h"
#include "wal/batch.h"
#include "walcache/status.h"

namespace walcache::engine {

// How the planner sees the state before the transaction.
struct PlanReads {
  // The newest state of `key`, pending transactions included; absent if expired at the
  // transaction's instant.
  std::function<Result<std::optional<Entry>>(const std::string& key)> latest;
  // Keys that may derive from `source` (a superset: the planner checks each entry's related
  // list), from the reverse index of installed entries; or a read error.
  std::function<Result<std::vector<std::string>>(const std::string& source)> dependents;
};

struct CommitPlan {
  wal::Batch batch;          // what to log; empty: the transaction changes nothing
  Effects effects;           // key -> its entry after the transaction, or empty if removed
  uint64_t invalidated = 0;  // entries the cascades invalidated
};

// Reverse-index edges (source, dependent) a walk found stale: the dependent's installed entry no
// longer derives from the source. Safe to forget: a later version that derives adds it again.
using StaleEdges = std::vector<std::pair<std::string, std::string>>;

// Plans the transaction `ops` at `seq` and instant `now_ms`. Errors: Conflict (an Expect or a
// related updateId does not hold), InvalidArgument (a cycle), or a read's error; then nothing
// may be logged. Either way, `*stale` (if not null) gets the stale edges the walks met.
Result<CommitPlan> PlanCommit(const std::vector<Transaction::Op>& ops, uint64_t seq,
                              uint64_t now_ms, const PlanReads& reads, StaleEdges* stale = nullptr);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_COMMIT_PLAN_H_
