// The checks after every death (DESIGN.md §1 invariants):
//   I1  every live entry's related sources are live at exactly the recorded updateIds — by a full
//       scan of the recovered state, without the oracle;
//   I2  a transaction is applied whole or not at all;
//   I3  every acknowledged sync commit survives;
//   I4  the recovered state is the model's state after exactly some prefix of the history;
//   visibility  no transaction a reader saw is taken back by a crash its mode must survive.
// The history: transactions acknowledged with their updateIds, plus those in flight at the death
// (intent sent, no acknowledgement) — each of which may or may not have committed, at an updateId
// the engine chose. Reconcile searches for the placement of in-flight transactions that explains
// the recovered state; there are at most a few of them (one per workload thread).
//
// Thread-safety: pure functions.
#ifndef WALCACHE_CHECKER_VERIFY_H_
#define WALCACHE_CHECKER_VERIFY_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "checker/model.h"

namespace walcache::checker {

struct Violation {
  std::string invariant;  // "I1".."I4", or "recovery"
  std::string detail;     // what was expected and what was found
  std::vector<std::string> keys;
};

// I1 over a recovered state.
std::vector<Violation> CheckRelated(const State& recovered);

// A reader saw `key` at `update_id` with a value that transaction `txn` wrote.
struct Read {
  std::string key;
  uint64_t update_id = 0;
  uint64_t txn = 0;
  int64_t ts_us = 0;
};

// What the parent learned from the workload since the last verified state.
struct Pending {
  std::map<uint64_t, Txn> intents;     // by txn id
  std::map<uint64_t, uint64_t> acked;  // txn id -> update_id
  std::set<uint64_t> conflicted;       // no effect, by the engine's word
  std::vector<Read> reads;
  bool power_lost = false;  // a death since then dropped unsynced data (else only processes died)
  void Clear() { *this = Pending(); }
};

struct Reconciled {
  std::vector<Violation> violations;          // empty: the recovered state is explained
  std::vector<uint64_t> committed_in_flight;  // in-flight txn ids the explanation committed
};

// I2, I3 and I4: is `recovered` (with last_seq `recovered_seq`) the state after `base`
// (verified at `base_seq`) and some prefix of `p`'s history? Durability by mode: a sync commit
// that was acknowledged survives anything; any acknowledged commit survives a process death
// (it reached the OS) unless power was lost too.
// Visibility (DESIGN.md §1): what a reader saw is part of that prefix, at the updateId it saw —
// unless power was lost and the transaction was buffered (visible once it reached the OS).
Reconciled Reconcile(const State& base, uint64_t base_seq, const Pending& p, const State& recovered,
                     uint64_t recovered_seq);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_VERIFY_H_
