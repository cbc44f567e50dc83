// The lockstep checker's checks of the read-side API (lockstep.h): a snapshot held across
// transactions compared with the model as it was, and GetOrLoad compared with the transaction the
// model applies; with the helpers they share with lockstep.cc's other checks (a state scanned
// from the cache, a difference of states, a transaction shown in one line).
//
// Thread-safety: HeldSnapshot and LoadAndCheck are used by the lockstep's committing thread
// only; the helpers are pure functions.
#ifndef WALCACHE_CHECKER_LOCKSTEP_API_CHECKS_H_
#define WALCACHE_CHECKER_LOCKSTEP_API_CHECKS_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "checker/model.h"
#include "checker/workload.h"
#include "walcache/cache.h"
#include "walcache/snapshot.h"

namespace walcache::checker {

ModelEntry FromEntry(const Entry& e);
// What `c` (or `snap`) shows of every key: a whole Scan, as a State.
Result<State> ScanState(Cache* c);
Result<State> ScanState(const Snapshot& snap);
// The keys on which `found` differs from `want`, a pair of lines each.
std::string DiffStates(const State& want, const State& found);
// `t` in one line: its id, instant and ops.
std::string ShowTxn(const Txn& t);

// A snapshot held across commits, checkpoints, compactions and evictions, which must show exactly
// the model as it was when it was taken.
class HeldSnapshot {
 public:
  // Takes one from `c`, whose newest updateId is `last_seq` and whose model, live now, is `want`,
  // before transaction `n`. A failure, or empty.
  std::string Take(Cache* c, State want, uint64_t last_seq, uint64_t n);
  bool held() const { return snap_.has_value(); }
  // The transaction before which it was taken.
  uint64_t taken_at() const { return taken_at_; }
  // Compares its whole Scan and four Gets of random keys with the model then, and releases it.
  // A failure, or empty.
  std::string CheckAndRelease(const Generator& gen, std::mt19937_64& rng);
  // Releases it unchecked (before the cache closes).
  void Release() { snap_.reset(); }

 private:
  std::optional<Snapshot> snap_;
  State want_;
  uint64_t taken_at_ = 0;
};

// What LoadAndCheck did.
struct LoadChecked {
  std::string failure;  // empty: the cache did what the model says
  bool stored = false;  // the fill committed: at last_seq + 1, the model's state_ has it
  std::string key;
};

// GetOrLoad of a derived key of `shape`, its loader reading one or two sources: a hit returns the
// model's entry without loading; a miss loads once and commits the fill the model applies
// (ExpectAbsent, an Expect of each source, the Put derived from them) at the next updateId, or
// stores nothing when a source is absent. `*state` is the model (live at `now_ms`); a stored fill
// is applied to it. `n` names the transaction; `max_related` is the cache's limit.
LoadChecked LoadAndCheck(Cache* c, const WorkloadShape& shape, State* state, uint64_t last_seq,
                         uint64_t now_ms, uint64_t n, size_t max_related, std::mt19937_64& rng);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_LOCKSTEP_API_CHECKS_H_
