// `walcache crash-test`: the crash-consistency checker (checker/crash_test.h) from the command
// line. Exit 0: no invariant violated; 1: a violation (printed with its timeline and the command
// that replays it); 2: could not run.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "checker/crash_test.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "util/injected_bug.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir, mode = "mixed", durability = "mixed", inject_bug, keep_failures;
  uint64_t cycles = 100, seed = 0;
  double seconds = 0;
  int threads = 4;
  bool json = false, list_bugs = false;
};

void PrintProgress(const checker::CrashTestReport& r, const Args& a) {
  std::string kills;
  for (const auto& [mode, n] : r.kills) kills += " " + mode + "=" + std::to_string(n);
  const double left = a.seconds > 0 ? std::max(0.0, a.seconds - r.seconds) : 0;
  std::fprintf(stderr, "\rcycle %llu  %.1f/min  deaths:%s  violations %zu  %s\x1b[K",
               static_cast<unsigned long long>(r.cycles),
               r.seconds > 0 ? static_cast<double>(r.cycles) * 60 / r.seconds : 0.0, kills.c_str(),
               r.failures.size(),
               a.seconds > 0 ? (std::to_string(static_cast<int>(left)) + " s left").c_str() : "");
  std::fflush(stderr);
}

int Run(const Args& a) {
  if (a.list_bugs) {
    for (const InjectedBugInfo& b : InjectedBugs()) std::cout << b.name << "\t" << b.breaks << "\n";
    return kExitOk;
  }
  checker::CrashTestOptions o;
  namespace fs = std::filesystem;
  const bool temporary = a.dir.empty();
  o.dir =
      temporary
          ? (fs::temp_directory_path() / ("walcache-crash-" + std::to_string(::getpid()))).string()
          : a.dir;
  o.cycles = a.cycles;
  o.seconds = a.seconds;
  o.seed =
      a.seed != 0
          ? a.seed
          : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) %
                1'000'000'007;
  o.mode = a.mode == "signal"      ? checker::Mode::kSignal
           : a.mode == "killpoint" ? checker::Mode::kKillPoint
           : a.mode == "powerloss" ? checker::Mode::kPowerLoss
                                   : checker::Mode::kMixed;
  o.durability = a.durability == "sync"       ? checker::DurabilityMix::kSync
                 : a.durability == "buffered" ? checker::DurabilityMix::kBuffered
                                              : checker::DurabilityMix::kMixed;
  o.threads = a.threads;
  o.inject_bug = a.inject_bug;
  o.keep_failures = a.keep_failures;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (tty) o.on_cycle = [&a](const checker::CrashTestReport& r) { PrintProgress(r, a); };
  Result<checker::CrashTestReport> r = checker::RunCrashTest(o);
  if (tty) std::fprintf(stderr, "\n");
  std::error_code ec;
  if (temporary && r.ok() && r->failures.empty()) fs::remove_all(o.dir, ec);
  if (!r.ok()) return CannotRun("crash-test", r.status());

  std::vector<uint64_t> rec = r->recovery_us;
  std::sort(rec.begin(), rec.end());
  const uint64_t median = rec.empty() ? 0 : rec[rec.size() / 2];
  const uint64_t max = rec.empty() ? 0 : rec.back();
  if (a.json) {
    Json j = Json::object();
    j["seed"] = o.seed;
    j["mode"] = checker::ModeName(o.mode);
    j["durability"] = checker::DurabilityName(o.durability);
    j["threads"] = o.threads;
    j["inject_bug"] = o.inject_bug;
    j["dir"] = o.dir;
    j["cycles"] = r->cycles;
    j["seconds"] = r->seconds;
    j["violations"] = static_cast<uint64_t>(r->failures.size());
    Json failures = Json::array();
    for (const checker::Failure& f : r->failures) {
      Json fj = Json::object();
      Json keys = Json::array(), timeline = Json::array();
      for (const std::string& k : f.violation.keys) keys.push_back(k);
      for (const std::string& t : f.timeline) timeline.push_back(t);
      fj["cycle"] = f.cycle;
      fj["invariant"] = f.violation.invariant;
      fj["detail"] = f.violation.detail;
      fj["keys"] = keys;
      fj["timeline"] = timeline;
      Json deaths = Json::array();
      for (const std::string& d : f.deaths) deaths.push_back(d);
      fj["deaths"] = deaths;
      fj["kept_dir"] = f.kept_dir;
      fj["replay"] = f.replay;
      failures.push_back(fj);
    }
    j["failures"] = failures;
    Json kills = Json::object(), points = Json::object();
    for (const auto& [m, n] : r->kills) kills[m] = n;
    for (const auto& [p, n] : r->kill_points) points[p] = n;
    Json recovery = Json::object();
    recovery["median"] = median;
    recovery["max"] = max;
    j["kills"] = kills;
    j["kill_points"] = points;
    j["deaths_in_recovery"] = r->deaths_in_recovery;
    j["transactions_committed"] = r->transactions_committed;
    j["in_flight_found_committed"] = r->transactions_in_flight_committed;
    j["conflicts_checked"] = r->conflicts;
    j["invalid_checked"] = r->invalid;
    j["undecided"] = r->undecided;
    j["feed_reads_checked"] = r->feed_reads;
    j["recovery_us"] = recovery;
    std::cout << JsonText(j) << std::endl;
  } else {
    for (const checker::Failure& f : r->failures) {
      std::cout << "VIOLATION " << f.violation.invariant << " found recovering after cycle "
                << (f.cycle == 0 ? 0 : f.cycle - 1) << ": " << f.violation.detail << "\n";
      if (!f.timeline.empty()) {
        std::cout << "  the last transactions before the death (times relative to it):\n";
        for (const std::string& t : f.timeline) std::cout << "    " << t << "\n";
      }
      if (!f.deaths.empty()) {
        std::cout << "  the deaths before it:\n";
        for (const std::string& d : f.deaths) std::cout << "    " << d << "\n";
      }
      if (!f.kept_dir.empty()) std::cout << "  crashed directory kept in " << f.kept_dir << "\n";
      std::cout << "  replay: " << f.replay << "\n";
    }
    std::string kills;
    for (const auto& [m, n] : r->kills) kills += " " + m + "=" + std::to_string(n);
    std::cout << "crash-test: seed " << o.seed << ", " << r->cycles << " cycles in "
              << static_cast<int>(r->seconds) << " s ("
              << (r->seconds > 0
                      ? static_cast<int>(static_cast<double>(r->cycles) * 60 / r->seconds)
                      : 0)
              << "/min), deaths" << kills << ", " << r->deaths_in_recovery << " during recovery, "
              << r->transactions_committed << " transactions acknowledged, " << r->conflicts
              << " conflicts and " << r->invalid << " invalid and " << r->feed_reads
              << " change-feed puts checked, " << r->undecided
              << " recoveries undecided, recovery median " << median << " us, max " << max
              << " us: " << (r->failures.empty() ? "no violation" : "VIOLATION") << std::endl;
  }
  return r->failures.empty() ? kExitOk : kExitProblem;
}

}  // namespace

void RegisterCrashTest(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "crash-test",
      "Kill walcache at random points, power loss included, and verify every recovery");
  cmd->footer(
      "Examples:\n  walcache crash-test --seconds 30 --mode mixed\n"
      "  walcache crash-test --cycles 50 --inject-bug ack-before-sync --seed 7 --json\n"
      "Exit: 0 no violation, 1 a violation, 2 could not run.");
  cmd->add_option("--dir", a->dir, "Cache directory (default: a fresh temporary one)");
  cmd->add_option("--cycles", a->cycles, "Deaths to cause")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  cmd->add_option("--seconds", a->seconds, "Run this long instead of counting cycles")
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--seed", a->seed,
                  "Seed of the workload and every kill decision (default: "
                  "from the clock, printed)");
  cmd->add_option("--mode", a->mode, "How the child dies")
      ->check(CLI::IsMember({"signal", "killpoint", "powerloss", "mixed"}))
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Workload threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--durability", a->durability, "Durability of the workload's commits")
      ->check(CLI::IsMember({"sync", "buffered", "mixed"}))
      ->capture_default_str();
  cmd->add_option("--inject-bug", a->inject_bug, "Switch on one planted defect (--list-bugs)");
  cmd->add_option("--keep-failures", a->keep_failures,
                  "Keep the crashed directory of a failing cycle, as it was before recovery, here");
  cmd->add_flag("--list-bugs", a->list_bugs, "List the planted bugs and what each breaks");
  cmd->add_flag("--json", a->json, "Print one JSON document at the end");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
