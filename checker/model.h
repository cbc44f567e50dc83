// The checker's model of the cache: the state a history of committed transactions must produce,
// computed independently of the engine from the documented semantics (docs/design.md §1,
// docs/engine.md): limits, expectations, related-key checks, the ops of a transaction applied in
// order with each write, delete, invalidate or touch acting on every entry derived from its key
// (transitively, entries created earlier in the transaction included), and real expiry times.
// Time: a transaction happens at one instant (Txn::now_ms, the clock the cache read when it
// sequenced it); its TTLs count from it, and an entry whose expiry is at or before it is absent
// for every purpose.
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
  uint64_t now_ms = 0;    // its instant (ms since the epoch); 0 until the cache read its clock
  bool sequenced = true;  // the cache read its clock for it (else it can have had no effect)
  friend bool operator==(const Txn&, const Txn&) = default;
};

struct ModelEntry {
  std::string value;
  uint64_t update_id = 0;
  uint64_t expires_at = 0;  // ms since the epoch; 0 = never
  std::vector<RelatedKey> related;
  friend bool operator==(const ModelEntry&, const ModelEntry&) = default;
};

using State = std::map<std::string, ModelEntry>;

enum class Outcome {
  kApplied,   // committed: consumed `seq`
  kConflict,  // an expectation or a related updateId failed: no effect (Status::Conflict)
  kInvalid,   // a limit, an empty key, a self-reference or a cycle: no effect (InvalidArgument)
  kEmpty,     // nothing to write (expectations, touches of absent keys): consumed no seq
};

// The cache's limits (Options); the defaults are Options' own.
struct Limits {
  size_t max_key_size = 64 << 10;
  size_t max_value_size = 64 << 20;
  size_t max_related = 64;
};

// Applies `t` as the transaction with updateId `seq` at its instant t.now_ms. On anything but
// kApplied, `state` is unchanged. Entries expired at the instant leave `state` either way.
Outcome Apply(const Txn& t, uint64_t seq, State* state, const Limits& limits = {});

// True iff `e` is live at `now_ms`.
inline bool LiveAt(const ModelEntry& e, uint64_t now_ms) {
  return e.expires_at == 0 || e.expires_at > now_ms;
}
// `s` without the entries expired at `now_ms`.
State LiveState(const State& s, uint64_t now_ms);

// "key: value@update_id [expires] <- src@id,..." for messages.
std::string Describe(const std::string& key, const ModelEntry& e);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_MODEL_H_
