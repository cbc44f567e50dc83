// The crash-test child: opens the cache (recovering what the last death left), sends the whole
// recovered state to the parent, then runs a multi-threaded transactional workload — source keys,
// entries derived from them at the updateIds it read (Expect), multi-key transactions, deletes,
// invalidations, touches, checkpoints, both durability modes — telling the parent each
// transaction it is about to commit and each outcome, until it dies as planned.
//
// Thread-safety: runs in its own (forked) process; never returns.
#ifndef WALCACHE_CHECKER_CHILD_H_
#define WALCACHE_CHECKER_CHILD_H_

#include <cstdint>
#include <string>

#include "checker/model.h"
#include "checker/power_loss_file_system.h"

namespace walcache::checker {

enum class Death : uint8_t {
  kSignal,     // the parent sends SIGKILL after a delay
  kKillPoint,  // _exit at the kill_hit-th pass of kill_point
  kPowerLoss,  // there, the unsynced WAL bytes are lost first (PowerLossFileSystem)
  kNone,       // verification only: dump and close cleanly
};

enum class DurabilityMix : uint8_t { kSync, kBuffered, kMixed };

struct ChildPlan {
  std::string dir;
  uint64_t seed = 0;
  uint64_t cycle = 0;
  int threads = 4;
  DurabilityMix durability = DurabilityMix::kMixed;
  Death death = Death::kSignal;
  std::string kill_point;
  uint64_t kill_hit = 1;
  PowerLossFileSystem::Tear tear = PowerLossFileSystem::Tear::kDrop;
  std::string inject_bug;
  // The child's clock (it jumps ahead of the system's now and then) starts at least this far
  // ahead of the system's, and at clock_floor_ms at least: past every reading an earlier child's
  // clock gave, which the cache's clock never goes below (its stored expiry horizon).
  uint64_t clock_offset_ms = 0;
  uint64_t clock_floor_ms = 0;
};

// Runs one child's life, its messages to `fd`. Its file systems record what they leave unsynced
// in `ledger` (shared with the parent and every later child: a later power loss must still take
// back what this child's death left in the page cache); null: a ledger of this child's own.
[[noreturn]] void RunChild(const ChildPlan& plan, int fd, PowerLossLedger* ledger);

// The limits of the cache the child opens (its Options).
Limits ChildLimits();

// CLOCK_MONOTONIC in microseconds (comparable between parent and child).
int64_t MonotonicUs();

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_CHILD_H_
