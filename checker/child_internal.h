// The crash-test child's insides that its compactor (child_windows.cc) shares with the rest of
// the child (child.cc): reads and commits reported to the parent, the child's clock and gate, and
// the aim of deaths at segment deletions. Only for those two files.
//
// Thread-safety: as child.h says of the child's threads; each function is thread-safe.
#ifndef WALCACHE_CHECKER_CHILD_INTERNAL_H_
#define WALCACHE_CHECKER_CHILD_INTERNAL_H_

#include <cstdint>
#include <random>
#include <string>

#include "checker/child.h"
#include "checker/model.h"
#include "checker/workload.h"
#include "walcache/cache.h"

namespace walcache::checker {

// Reads `key` and tells the parent what it saw (and reads it again at once if the read hold
// held it).
Result<Entry> ChildRead(Cache* c, const std::string& key);
// Sends the intent, commits (the clock reports the instant), sends the outcome.
void ChildCommit(Cache* c, Txn* t, const ChildPlan& plan, std::mt19937_64& rng);
// The child's clock, and a leap of it (time passes at once: what expires within it expires).
uint64_t ChildClockNow();
void ChildClockLeap(uint64_t ms);
// Keeps the workload threads out of their transactions (waits until none is in one), and lets
// them in again.
void GateClose();
void GateOpen();
// Whether this child's death at a segment deletion counts only rotation windows' passes; a
// rotation began since ClearRotated; marks the calling thread's checkpoint as a window's.
bool AimRotation();
void ClearRotated();
bool Rotated();
void MarkRotationCheckpoint(bool on);

// The next clock reading on this thread is the instant of txn `txn_id` (reported with a 'T'
// message, and the clock held until EndClockForCommit or the commit is sequenced).
void ClockForCommit(uint64_t txn_id);
void EndClockForCommit();

// child_api_checks.cc: through one snapshot (taken at `start`, held since), a derived entry's
// sources are live at exactly its related updateIds ('V' if not; every read reported); and a
// GetOrLoad whose fill attempts are reported as transactions (ids from `id`).
void CheckSnapshot(const Result<Snapshot>& snap, int64_t start, const Generator& gen,
                   std::mt19937_64& rng);
void LoadAndReport(Cache* c, const Generator& gen, const ChildPlan& plan, std::mt19937_64& rng,
                   uint64_t id);

// Sends one line to the parent (protocol.h).
bool ChildSend(std::string line);

// The change-feed reader's loop (child_feed.cc): a registered consumer reading the feed from its
// position, reporting each put it reads ('G') and what the feed must never do ('V'); never
// returns.
[[noreturn]] void RunFeedReader(Cache* c, uint64_t seed);

// The compactor thread's loop (child_windows.cc); never returns.
[[noreturn]] void RunCompactor(Cache* c, const Generator& gen, const ChildPlan& plan);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_CHILD_INTERNAL_H_
