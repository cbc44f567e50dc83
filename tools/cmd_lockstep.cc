// `walcache lockstep`: the lockstep checker (checker/lockstep.h) from the command line — the
// whole-API workload against the model after every commit, no deaths. Exit 0: the cache agreed
// with the model throughout; 1: it did not (the first difference is printed, with the command
// that replays it); 2: could not run.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "checker/lockstep.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/json.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir, inject_bug;
  uint64_t transactions = 10'000, seed = 0, scan_every = 300;
  int readers = 1;
  double seconds = 0;
  bool json = false;
};

int Run(const Args& a) {
  namespace fs = std::filesystem;
  checker::LockstepOptions o;
  const bool temporary = a.dir.empty();
  o.dir = temporary
              ? (fs::temp_directory_path() / ("walcache-lockstep-" + std::to_string(::getpid())))
                    .string()
              : a.dir;
  o.transactions = a.transactions;
  o.seconds = a.seconds;
  o.scan_every = a.scan_every;
  o.inject_bug = a.inject_bug;
  o.readers = a.readers;
  o.seed =
      a.seed != 0
          ? a.seed
          : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) %
                1'000'000'007;
  Result<checker::LockstepReport> r = checker::RunLockstep(o);
  std::error_code ec;
  if (temporary && r.ok() && r->failure.empty()) fs::remove_all(o.dir, ec);
  if (!r.ok()) return CannotRun("lockstep", r.status());
  const double rate = r->seconds > 0 ? static_cast<double>(r->transactions) / r->seconds : 0;
  std::string replay = "walcache lockstep --seed " + std::to_string(o.seed) + " --transactions " +
                       std::to_string(r->failed_at) + " --scan-every " +
                       std::to_string(o.scan_every);
  if (!o.inject_bug.empty()) replay += " --inject-bug " + o.inject_bug;
  if (a.json) {
    Json j = Json::object();
    j["seed"] = o.seed;
    j["inject_bug"] = o.inject_bug;
    j["transactions"] = r->transactions;
    j["seconds"] = r->seconds;
    j["transactions_per_s"] = rate;
    j["applied"] = r->applied;
    j["empty"] = r->empty;
    j["conflicts"] = r->conflicts;
    j["invalid"] = r->invalid;
    j["expired_reads"] = r->expired_reads;
    j["scans"] = r->scans;
    j["compactions"] = r->compactions;
    j["checkpoints"] = r->checkpoints;
    j["reopens"] = r->reopens;
    j["deaths"] = r->deaths;
    j["pin_windows"] = r->windows;
    j["reads"] = r->reads;
    j["snapshots"] = r->snapshots;
    j["loads"] = r->loads;
    j["loads_stored"] = r->loads_stored;
    j["evictions"] = r->evictions;
    j["read_through"] = r->read_through;
    j["failed_at"] = r->failed_at;
    j["failure"] = r->failure;
    j["replay"] = r->failure.empty() ? "" : replay;
    std::cout << JsonText(j) << std::endl;
  } else {
    if (!r->failure.empty()) {
      std::cout << "DIFFERENCE after transaction " << r->failed_at << ": " << r->failure << "\n"
                << "  replay: " << replay << "\n";
      if (!temporary) std::cout << "  the cache is left in " << o.dir << "\n";
    }
    std::cout << "lockstep: seed " << o.seed << ", " << r->transactions << " transactions in "
              << r->seconds << " s (" << static_cast<uint64_t>(rate) << "/s): " << r->applied
              << " applied, " << r->empty << " empty, " << r->conflicts << " conflicts, "
              << r->invalid << " invalid; " << r->expired_reads << " reads of expired keys, "
              << r->scans << " full scans, " << r->compactions << " compactions, " << r->checkpoints
              << " checkpoints, " << r->reopens << " reopens, " << r->deaths << " deaths ("
              << r->windows << " in a pin window), " << r->reads << " concurrent reads, "
              << r->evictions << " evictions, " << r->read_through << " read-throughs, "
              << r->snapshots << " held snapshots, " << r->loads << " GetOrLoads ("
              << r->loads_stored
              << " filled): " << (r->failure.empty() ? "agrees with the model" : "DIFFERS")
              << std::endl;
  }
  return r->failure.empty() ? kExitOk : kExitProblem;
}

}  // namespace

void RegisterLockstep(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "lockstep",
      "Run whole-API transactions and compare the cache with the model after every commit");
  cmd->footer(
      "Examples:\n  walcache lockstep --transactions 100000\n"
      "  walcache lockstep --seconds 60 --seed 7 --json\n"
      "  walcache lockstep --inject-bug cascade-ignores-txn-edges --seed 1\n"
      "Exit: 0 agrees with the model, 1 a difference, 2 could not run.");
  cmd->add_option("--dir", a->dir, "Cache directory, wiped first (default: a temporary one)");
  cmd->add_option("--transactions", a->transactions, "Transactions to run")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}))
      ->capture_default_str();
  cmd->add_option("--seconds", a->seconds, "Run this long instead of counting transactions")
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--seed", a->seed, "Seed of the workload (default: from the clock, printed)");
  cmd->add_option("--scan-every", a->scan_every, "A full scan and I1 every this many commits")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}))
      ->capture_default_str();
  cmd->add_option("--readers", a->readers, "Threads reading beside the committer")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  cmd->add_option("--inject-bug", a->inject_bug,
                  "Switch on one planted defect (walcache crash-test --list-bugs)");
  cmd->add_flag("--json", a->json, "Print one JSON document at the end");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
