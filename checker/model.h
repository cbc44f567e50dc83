// The checker's model of the cache: the state a history of committed transactions must produce,
// computed independently of the engine from the semantics of DESIGN.md §1 (expectations,
// related-key checks, transitive invalidation, expiry clamping). Expiry is modelled as a flag —
// the crash test uses TTLs far longer than a run, so nothing expires while it checks.
//
// Thread-safety: plain values and pure functions.
#ifndef WALCACHE_CHECKER_MODEL_H_
#define WALCACHE_CHECKER_MODEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "walcache/types.h"

namespace walcache::checker {

struct TxnOp {
  enum Kind : char {
    kPut = 'P',
    kDelete = 'D',
    kInvalidate = 'V',
    kTouch = 'T',
    kExpect = 'E',
    kExpectAbsent = 'N',
  };
  Kind kind = kPut;
  std::string key;
  std::string value;                // kPut
  uint64_t ttl_ms = 0;              // kPut, kTouch
  uint64_t update_id = 0;           // kExpect
  std::vector<RelatedKey> related;  // kPut; update_id 0: written earlier in this transaction
  friend bool operator==(const TxnOp&, const TxnOp&) = default;
};

struct Txn {
  uint64_t id = 0;    // the workload's own id, unique in a run
  int64_t ts_us = 0;  // when the child was about to commit it
  bool sync = true;
  std::vector<TxnOp> ops;
  friend bool operator==(const Txn&, const Txn&) = default;
};

struct ModelEntry {
  std::string value;
  uint64_t update_id = 0;
  bool expires = false;
  std::vector<RelatedKey> related;
  friend bool operator==(const ModelEntry&, const ModelEntry&) = default;
};

using State = std::map<std::string, ModelEntry>;

enum class Outcome {
  kApplied,   // committed: consumed `seq`
  kConflict,  // an expectation or a related updateId failed: no effect
  kEmpty,     // nothing to write (touches of absent keys only): consumed no seq
};

// Applies `t` as the transaction with updateId `seq`. On kConflict and kEmpty, `state` is
// unchanged.
Outcome Apply(const Txn& t, uint64_t seq, State* state);

// "key: value@update_id [expires] <- src@id,..." for messages.
std::string Describe(const std::string& key, const ModelEntry& e);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_MODEL_H_
