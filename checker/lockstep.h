// The lockstep checker: no deaths, one cache, and after every commit the engine's answer and
// state equal the model's (checker/model.h). Transactions come from the whole-API generator
// (checker/workload.h); the cache's clock is the checker's own, which moves forward between
// commits by a few milliseconds (now and then by seconds), so every TTL really expires and every
// expiry time is known exactly. After each commit:
//   - the outcome agrees: applied at the next updateId, empty (the newest updateId back),
//     Conflict, or InvalidArgument — the model's word, each way;
//   - every key of the workload reads (Get) as the model has it: value, updateId, expiry and
//     related list, or absent;
// and every `scan_every` commits a full Scan equals the model, and I1 and the expiry rule hold
// on it without the model. Now and then a snapshot is taken and held for up to 150 transactions
// (checkpoints, compactions and evictions among them), then read whole and compared with the
// model as it was when taken; and GetOrLoad of a derived key, its loader reading sources, must
// hit exactly the model's entry or commit the fill the model applies. A tiny memory budget keeps
// eviction and read-through going on every commit; Compact() (a checkpoint, then RocksDB's
// compaction with the expiry filter), plain checkpoints and reopens come at random, so entries that
// live only in RocksDB are read, derived from, touched and invalidated. The cache lives in a forked
// child that dies (_exit, no close) every few thousand transactions; the next one recovers, and the
// recovered state must be exactly the model (every commit was acknowledged, and a process death
// keeps them all). Half the lives end in the pin window (checker/pin_window.h): touches logged
// between a compaction's checkpoint and its compaction, time leaping past the stored copies' old
// expiries, the death at once — what a store whose expiry filter runs by the clock loses.
//
// Thread-safety: single-threaded, and it forks: call it from a process without other threads.
#ifndef WALCACHE_CHECKER_LOCKSTEP_H_
#define WALCACHE_CHECKER_LOCKSTEP_H_

#include <cstdint>
#include <string>

#include "walcache/result.h"

namespace walcache::checker {

struct LockstepOptions {
  std::string dir;  // REQUIRED: created if missing, wiped first
  uint64_t transactions = 10'000;
  double seconds = 0;  // > 0: run until then instead of counting transactions
  uint64_t seed = 1;
  uint64_t scan_every = 300;
  std::string inject_bug;  // planted into this process for the run
  int readers = 1;         // threads reading beside the committer (see lockstep.cc's Readers)
};

struct LockstepReport {
  uint64_t seed = 0;
  uint64_t transactions = 0;
  uint64_t applied = 0, empty = 0, conflicts = 0, invalid = 0;
  uint64_t expired_reads = 0;  // Gets of keys the model had expired by then
  uint64_t scans = 0, compactions = 0, checkpoints = 0, reopens = 0;
  uint64_t windows = 0;  // lives that ended in the pin window (checker/pin_window.h)
  uint64_t deaths = 0;   // lives ended by _exit, each recovery compared with the model
  uint64_t evictions = 0, read_through = 0;
  uint64_t reads = 0;         // by the concurrent readers
  uint64_t snapshots = 0;     // snapshots held across transactions and compared with the model
  uint64_t loads = 0;         // GetOrLoad calls checked against the model
  uint64_t loads_stored = 0;  // ... of which filled the key
  double seconds = 0;
  // Empty when the engine agreed with the model throughout; else what differed, first.
  std::string failure;
  uint64_t failed_at = 0;  // the transaction (1-based) after which it differed
};

// Runs it. An error Status only when it could not run; a disagreement is in the report.
Result<LockstepReport> RunLockstep(const LockstepOptions& options);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_LOCKSTEP_H_
