// The crash-consistency checker's parent (docs/design.md §6): runs cycles, each a forked child that
// recovers the cache, dumps it, works, and dies (signal, kill point, or power loss at a kill
// point); verifies every recovery against the oracle built from the child's messages
// (checker/verify.h), and stops at the first violation, keeping the crashed directory if asked.
// One seed fixes the workload and every kill decision (a signal's wall-clock timing aside).
//
// Thread-safety: single-threaded; it forks, so call it from a process without other threads.
#ifndef WALCACHE_CHECKER_CRASH_TEST_H_
#define WALCACHE_CHECKER_CRASH_TEST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "checker/child.h"
#include "checker/verify.h"
#include "walcache/result.h"

namespace walcache::checker {

enum class Mode : uint8_t { kSignal, kKillPoint, kPowerLoss, kMixed };

struct CrashTestOptions {
  std::string dir;  // REQUIRED: created if missing; must not hold another run's cache
  uint64_t cycles = 100;
  double seconds = 0;  // > 0: run until then instead of counting cycles
  uint64_t seed = 1;
  Mode mode = Mode::kMixed;
  int threads = 4;
  DurabilityMix durability = DurabilityMix::kMixed;
  std::string inject_bug;
  std::string keep_failures;  // empty: keep nothing
  // Called after every cycle (for a progress line); may be empty.
  std::function<void(const struct CrashTestReport&)> on_cycle;
};

struct Failure {
  uint64_t cycle = 0;  // found when this cycle recovered: the death of the cycle before did it
  Violation violation;
  std::vector<std::string> timeline;  // the last transactions before the death, with times
  std::string kept_dir;               // the crashed directory as it was before recovery
  std::string replay;                 // the command that replays the run up to this cycle
  std::vector<std::string> deaths;    // how the last few cycles before it ended, oldest first
};

struct CrashTestReport {
  uint64_t seed = 0;
  uint64_t cycles = 0;
  double seconds = 0;
  std::vector<Failure> failures;
  std::map<std::string, uint64_t> kills;        // by mode: signal, killpoint, powerloss, timeout
  std::map<std::string, uint64_t> kill_points;  // kill point -> deaths there
  uint64_t deaths_in_recovery = 0;
  uint64_t transactions_committed = 0;  // acknowledged
  uint64_t transactions_in_flight_committed = 0;
  uint64_t conflicts = 0, invalid = 0;  // rejected transactions, each checked against the model
  uint64_t undecided = 0;   // recoveries the placement search gave up on (not a verdict)
  uint64_t feed_reads = 0;  // puts the change-feed reader reported, each checked as a read
  std::vector<uint64_t> recovery_us;
};

// Every kill point the checker aims at.
const std::vector<std::string>& KillPoints();

// Runs the test. An error Status only when it could not run; violations are in the report.
Result<CrashTestReport> RunCrashTest(const CrashTestOptions& options);

// The command line that reruns `o` until the recovery of `cycle` (its final verification).
std::string ReplayCommand(const CrashTestOptions& o, uint64_t cycle);

const char* ModeName(Mode m);
const char* DurabilityName(DurabilityMix d);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_CRASH_TEST_H_
