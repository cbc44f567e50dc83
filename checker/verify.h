// The checks after every death (docs/design.md §1 invariants):
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

// I1 over a recovered state, and the expiry rule beside it: no entry expires later than any of
// its sources (a derived entry never outlives them). Both without the oracle.
std::vector<Violation> CheckRelated(const State& recovered);

// A reader saw `key` at `update_id` with a value that transaction `txn` wrote.
struct Read {
  std::string key;
  uint64_t update_id = 0;
  uint64_t txn = 0;
  int64_t ts_us = 0;
  // Shown by the change feed, which shows only what is durable (no power loss takes it back)
  // and shows history (not a read of the current state: no real-time rule).
  bool feed = false;
  std::string via;  // the call that read it ("" for a plain Get)
};

// What the parent learned from the workload since the last verified state.
struct Pending {
  std::map<uint64_t, Txn> intents;             // by txn id; now_ms and sequenced from 'T' messages
  std::map<uint64_t, uint64_t> acked;          // txn id -> update_id
  std::map<uint64_t, int64_t> acked_at_us;     // txn id -> when its acknowledgement was sent
  std::set<uint64_t> conflicted;               // no effect, by the engine's word: Conflict ...
  std::set<uint64_t> invalid;                  // ... or InvalidArgument
  std::map<uint64_t, int64_t> rejected_at_us;  // txn id -> when its rejection was sent
  std::vector<Read> reads;                     // ts_us: when the read started
  std::vector<std::string> live_violations;    // what the child's readers found ('V')
  Limits limits;                               // those of the cache under test
  bool power_lost = false;  // a death since then dropped unsynced data (else only processes died)
  void Clear() {
    const Limits l = limits;
    *this = Pending();
    limits = l;
  }
};

struct Reconciled {
  std::vector<Violation> violations;          // empty: the recovered state is explained
  std::vector<uint64_t> committed_in_flight;  // in-flight txn ids the explanation committed
  bool undecided = false;  // the placement search gave up before it found an explanation
};

// I2, I3 and I4: is `recovered` (with last_seq `recovered_seq`) the state after `base`
// (verified at `base_seq`) and some prefix of `p`'s history? Durability by mode: a sync commit
// that was acknowledged survives anything; any acknowledged commit survives a process death
// (it reached the OS) unless power was lost too.
// Visibility (docs/design.md §1): what a reader saw is part of that prefix, at the updateId it saw
// — unless power was lost and the transaction was buffered (visible once it reached the OS).
// Expiry: the model keeps real expiry times (each transaction's instant is known); the recovered
// state was scanned at an instant in [scan_from_ms, scan_to_ms], so an entry expiring inside
// that window may be present or not (0, 0: nothing expires).
// Conflicts: each rejected transaction must be rejected the same way by the model at some point
// of the explained history where it can have been validated (after what was acknowledged
// before it began, before what began after its rejection).
// Reads in real time: a read that started after the acknowledgement of a transaction that wrote
// its key sees that updateId or a later one.
Reconciled Reconcile(const State& base, uint64_t base_seq, const Pending& p, const State& recovered,
                     uint64_t recovered_seq, uint64_t scan_from_ms = 0, uint64_t scan_to_ms = 0);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_VERIFY_H_
