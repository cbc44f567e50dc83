// End-to-end: every regular file of a realistic cache directory damaged in turn, on a fresh copy
// each time: truncated to 0 or to half, zeroed, replaced by seeded garbage of the same size,
// deleted, made unreadable (chmod 000, or, as root, whom chmod does not stop, replaced by a
// directory of the same name).
//
// For each (file, damage), before anything opens the copy: `walcache verify` and `walcache
// inspect` (text and --json) must exit 0, 1 or 2 within 20 s (never by a signal), name the file
// when they report a failure, and leave every byte, mode and name in the directory as it was.
// Then Cache::Open, in a forked child under a watchdog, must either
//   - refuse with an error that names the damaged file (NamesFile: its path, or the rocksdb
//     directory and RocksDB's own message naming it), and refuse again when opened again, or
//   - where the design expects a recovery (OpenMaySucceed: a torn newest WAL segment, a deleted
//     newest-segment witness, the informational status files, the lock files, RocksDB files it
//     rewrites on open), open, and
//     then: I1 holds; the state is exactly the state after some prefix of the acknowledged
//     transactions; that prefix holds every transaction not held by the damaged file (all of
//     them, unless it is the newest WAL segment, whose records may go with it); and the
//     directory reopens to the same state.
// A `verify` that exits 0 promises an open that succeeds (lock files aside). RocksDB drops a
// damaged log of its own silently; walcache names the logs RocksDB recovered from instead (or
// says there were none, when the log was deleted).
// Each case prints one line (file kind, file, damage, open result, verify and inspect exit codes);
// docs/hardening.md ("Damaged files") has the table. One test per file kind, so CTest runs them in
// parallel. Helpers: tests/cli_run.h, tests/cache_in_child.h, tests/dir_snapshot.h.
//
// Thread-safety: not thread-safe; one test at a time.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/checkpoint_failure.h"
#include "engine/recovery_record.h"
#include "tests/cache_in_child.h"
#include "tests/cli_run.h"
#include "tests/damaged_dir_history.h"
#include "tests/dir_snapshot.h"
#include "tests/test_util.h"
#include "wal/newest.h"

namespace walcache::cli_test {
namespace {

using namespace damaged_dir;  // NOLINT: the suite's own history and directory

enum class Kind : uint8_t {
  kWalNewest,
  kWalOlder,
  kWalWitness,
  kCurrent,
  kManifest,
  kOptions,
  kSst,
  kRocksLog,
  kIdentity,
  kRocksLock,
  kInfoLog,
  kLastRecovery,
  kCheckpointFailed,
  kFeed,
  kLock,
};

struct KindName {
  Kind kind;
  const char* id;     // the test's name
  const char* label;  // the table's
};
constexpr KindName kKinds[] = {
    {Kind::kWalNewest, "WalNewest", "WAL segment, newest"},
    {Kind::kWalOlder, "WalOlder", "WAL segment, older"},
    {Kind::kWalWitness, "WalWitness", "WAL newest-segment witness (`wal/NEWEST`)"},
    {Kind::kCurrent, "RocksCurrent", "RocksDB CURRENT"},
    {Kind::kManifest, "RocksManifest", "RocksDB MANIFEST-*"},
    {Kind::kOptions, "RocksOptions", "RocksDB OPTIONS-*"},
    {Kind::kSst, "RocksSst", "RocksDB *.sst"},
    {Kind::kRocksLog, "RocksLog", "RocksDB *.log (its WAL)"},
    {Kind::kIdentity, "RocksIdentity", "RocksDB IDENTITY"},
    {Kind::kRocksLock, "RocksLock", "RocksDB LOCK"},
    {Kind::kInfoLog, "RocksInfoLog", "RocksDB LOG, LOG.old.*"},
    {Kind::kLastRecovery, "LastRecovery", "LAST_RECOVERY"},
    {Kind::kCheckpointFailed, "CheckpointFailed", "CHECKPOINT_FAILED"},
    {Kind::kFeed, "Feed", "change feed `FEED`"},
    {Kind::kLock, "Lock", "walcache LOCK"},
};
const KindName& NameOf(Kind k) { return kKinds[static_cast<size_t>(k)]; }
void PrintTo(Kind k, std::ostream* os) { *os << NameOf(k).label; }

// The kind of the file at `rel` (relative to the cache directory), or nullopt for a file this
// suite does not know.
std::optional<Kind> KindOf(const std::string& rel) {
  const fs::path p(rel);
  const std::string name = p.filename().string(), parent = p.parent_path().string();
  if (parent.empty()) {
    if (name == "LOCK") return Kind::kLock;
    if (name == engine::kRecoveryFile) return Kind::kLastRecovery;
    if (name == engine::kCheckpointFailureFile) return Kind::kCheckpointFailed;
    if (name == "FEED") return Kind::kFeed;
  } else if (parent == "wal" && name == wal::kNewestFileName) {
    return Kind::kWalWitness;
  } else if (parent == "wal" && name.ends_with(".wal")) {
    return rel == Tmpl().newest ? Kind::kWalNewest : Kind::kWalOlder;
  } else if (parent == "rocksdb") {
    if (name == "CURRENT") return Kind::kCurrent;
    if (name == "IDENTITY") return Kind::kIdentity;
    if (name == "LOCK") return Kind::kRocksLock;
    if (name == "LOG" || name.starts_with("LOG.old.")) return Kind::kInfoLog;
    if (name.starts_with("MANIFEST-")) return Kind::kManifest;
    if (name.starts_with("OPTIONS-")) return Kind::kOptions;
    if (name.ends_with(".sst")) return Kind::kSst;
    if (name.ends_with(".log")) return Kind::kRocksLog;
  }
  return std::nullopt;
}

// Every regular file under `dir`, relative to it, sorted.
std::vector<std::string> RegularFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- Damage -------------------------------------------------------------------------------------

enum class Damage : uint8_t {
  kTruncateZero,
  kTruncateHalf,
  kZero,
  kGarbage,
  kDelete,
  kChmod000,
  kDirectory
};
struct DamageName {
  Damage damage;
  const char* name;
};
constexpr DamageName kDamages[] = {
    {Damage::kTruncateZero, "truncate to 0"},
    {Damage::kTruncateHalf, "truncate to half"},
    {Damage::kZero, "zeroed"},
    {Damage::kGarbage, "garbage"},
    {Damage::kDelete, "deleted"},
    {Damage::kChmod000, "chmod 000"},
    {Damage::kDirectory, "a directory"},
};
const char* DamageName(Damage d) { return kDamages[static_cast<size_t>(d)].name; }

// Does `d` to the file `rel` under `dir`. Returns "", or why `d` does not apply: an empty file
// has nothing to truncate, zero or garble, and chmod 000 does not stop root.
std::string ApplyDamage(const std::string& dir, const std::string& rel, Damage d) {
  const std::string path = dir + "/" + rel;
  const uint64_t size = test::FileSize(path);
  const bool bytes = d == Damage::kTruncateZero || d == Damage::kTruncateHalf ||
                     d == Damage::kZero || d == Damage::kGarbage;
  if (bytes && size == 0) return "empty file";
  switch (d) {
    case Damage::kTruncateZero:
    case Damage::kTruncateHalf:
      test::TruncateFile(path, d == Damage::kTruncateZero ? 0 : size / 2);
      break;
    case Damage::kZero:
      test::WriteFile(path, std::string(size, '\0'));
      break;
    case Damage::kGarbage: {
      std::seed_seq seed(rel.begin(), rel.end());  // the same garbage in every run
      std::mt19937_64 rng(seed);
      std::string g(size, '\0');
      for (char& c : g) c = static_cast<char>(rng());
      test::WriteFile(path, g);
      break;
    }
    case Damage::kDelete:
      fs::remove(path);
      break;
    case Damage::kChmod000:
      if (::geteuid() == 0) return "root ignores it (see: a directory)";
      fs::permissions(path, fs::perms::none);
      break;
    case Damage::kDirectory:
      fs::remove(path);
      fs::create_directory(path);
      break;
  }
  return "";
}

// ---- What the design expects --------------------------------------------------------------------

// Whether Cache::Open may succeed after `d` to a file of kind `k` (docs/hardening.md). Everywhere
// else it must refuse, naming the file.
bool OpenMaySucceed(Kind k, Damage d) {
  const bool unreadable = d == Damage::kChmod000 || d == Damage::kDirectory;
  switch (k) {
    // Half of it: a torn tail, whose records go with it (by design: it cannot be told from an
    // append the crash cut short). Anything that takes its header (or the whole file) contradicts
    // the witness, which says the header was durable: refused.
    case Kind::kWalNewest:
      return d == Damage::kTruncateHalf;
    // Deleted, the WAL reads as before witnesses existed; anything else is damage.
    case Kind::kWalWitness:
      return d == Damage::kDelete;
    case Kind::kLastRecovery:      // informational, replaced at every open
    case Kind::kCheckpointFailed:  // informational, never read by the library
    case Kind::kOptions:           // RocksDB does not read it at open, and writes a new one
    case Kind::kInfoLog:           // RocksDB's diagnostics
      return true;
    case Kind::kLock:       // only flock()ed; its bytes name the last holder
    case Kind::kRocksLock:  // the same, for RocksDB
    case Kind::kIdentity:   // RocksDB rewrites a missing or unreadable one
      return !unreadable;
    case Kind::kRocksLog:  // RocksDB's point-in-time recovery may keep all it needs
      return !unreadable && d != Damage::kDelete;
    // Retention and the history id only: deleted, nothing is retained and a reader passing the
    // old history id gets a gap. Anything else fails its checksum line: refused, named.
    case Kind::kFeed:
      return d == Damage::kDelete;
    default:
      return false;
  }
}

// The number of transactions a successful open must keep: all of them, unless the damaged file is
// the newest WAL segment, whose records may go with it.
size_t MustKeep(Kind k) {
  if (k != Kind::kWalNewest) return kTxns;
  const Template& t = Tmpl();
  size_t n = 0;
  while (n < kTxns && t.ids[n] < t.newest_first_seq) ++n;
  return n;
}

// Whether `text` names the damaged file `rel` of `dir`: its path, or, for RocksDB's files, the
// rocksdb directory and RocksDB's own message naming the file ("CURRENT file does not end with
// newline"; a missing table file 000010.sst is reported by RocksDB under its legacy name
// 000010.ldb, so a table file counts as named by its number).
bool NamesFile(const std::string& text, const std::string& dir, const std::string& rel, Kind k) {
  if (text.find(rel) != std::string::npos) return true;
  // RocksDB's point-in-time recovery drops a damaged or missing log of its own without an error.
  // walcache sees that the checkpoint went back and the WAL no longer continues it, and names the
  // store, the records missing and the logs RocksDB recovered from: the damaged one (found by the
  // path check above) or, once deleted, none at the first open (CheckOpen insists on that) and
  // the new log the refused open left at the next.
  if (k == Kind::kRocksLog) {
    return text.find(dir + "/rocksdb holds the checkpoint at seq") != std::string::npos &&
           text.find("are missing") != std::string::npos &&
           text.find("RocksDB ") != std::string::npos;
  }
  if (!rel.starts_with("rocksdb/") || text.find(dir + "/rocksdb") == std::string::npos) {
    return false;
  }
  std::string name = fs::path(rel).filename().string();
  if (k == Kind::kSst) name = fs::path(rel).stem().string() + ".";
  return text.find(name) != std::string::npos;
}

// ---- Running a case -----------------------------------------------------------------------------

constexpr auto kCliLimit = std::chrono::seconds(20);
constexpr auto kOpenLimit = std::chrono::seconds(30);

// Runs a read-only command on the damaged copy and checks its contract; returns the run.
CliRun CheckReadOnly(const std::vector<std::string>& cmd, const std::string& dir,
                     const std::string& rel, Kind kind, Damage d) {
  std::vector<std::string> args = cmd;
  args.insert(args.begin() + 1, dir);
  const auto start = std::chrono::steady_clock::now();
  const CliRun r = Cli(args);
  const auto took = std::chrono::steady_clock::now() - start;
  const std::string what = cmd[0] + (cmd.size() > 1 ? " " + cmd[1] : "") + " on " + rel;
  EXPECT_LT(took, kCliLimit) << what;
  EXPECT_TRUE(r.code >= 0 && r.code <= 2) << what << ": " << r;
  const bool json = std::find(cmd.begin(), cmd.end(), "--json") != cmd.end();
  if (json && (r.code == 0 || r.code == 1)) ParseJson(r);
  if (r.code == 2) {
    EXPECT_TRUE(OneLineNaming(r, "walcache " + cmd[0])) << what;
    EXPECT_TRUE(NamesFile(r.err, dir, rel, kind)) << what << " does not name it: " << r;
  }
  // A problem found names the file; inspect's "checkpoints FAILING" reports the file's contents.
  const bool failing = kind == Kind::kCheckpointFailed && cmd[0] == "inspect" &&
                       (r.out.find("FAILING") != std::string::npos ||
                        r.out.find("\"failures\"") != std::string::npos);
  if (r.code == 1 && !failing) {
    EXPECT_TRUE(NamesFile(r.out + r.err, dir, rel, kind)) << what << " does not name it: " << r;
  }
  // The status files are informational, but one inspect cannot read is named, not left out; so
  // is a LAST_RECOVERY without its summary line (emptied, zeroed, garbled).
  const bool unreadable = d == Damage::kChmod000 || d == Damage::kDirectory;
  const bool garbled = d == Damage::kTruncateZero || d == Damage::kZero || d == Damage::kGarbage;
  if (cmd[0] == "inspect" && ((kind == Kind::kLastRecovery && (unreadable || garbled)) ||
                              (kind == Kind::kCheckpointFailed && unreadable))) {
    EXPECT_NE(r.out.find(rel), std::string::npos) << what << " does not name it: " << r;
  }
  return r;
}

// Opens the copy in a forked child (a watchdog kills it after kOpenLimit), reads every entry,
// closes it, and opens it again: a second open must see the same state, or, after a refusal,
// refuse again (a refused open must not leave a directory that the next one takes for good).
// An open that loses acknowledged transactions must have been announced by `verify_out` naming
// the file (unless the file was deleted: nothing is left to see). Returns a one-line description
// for the table.
std::string CheckOpen(const std::string& dir, const std::string& rel, Kind kind, Damage d,
                      const std::string& verify_out) {
  const std::string where = rel + " " + DamageName(d);
  const ChildRun r = RunChild(
      [&]() -> std::string {
        std::string first;
        {
          auto c = Cache::Open(dir, DamageOptions());
          if (!c.ok()) {
            auto again = Cache::Open(dir, DamageOptions());
            return "REFUSED " + c.status().ToString() + "\x1e" +
                   (again.ok() ? "OPENED" : again.status().ToString());
          }
          first = DumpAll(c->get());
        }
        auto again = Cache::Open(dir, DamageOptions());
        if (!again.ok()) return "REOPEN REFUSED " + again.status().ToString();
        return first + "\x1e" + DumpAll(again->get());
      },
      kOpenLimit);
  if (r.timed_out) {
    ADD_FAILURE() << where << ": Cache::Open hung";
    return "HUNG";
  }
  if (!r.exit.ok()) {
    ADD_FAILURE() << where << ": Cache::Open crashed: " << r.exit << "\n" << r.text;
    return "CRASHED";
  }
  const size_t sep = r.text.find('\x1e');
  if (r.text.starts_with("REFUSED ")) {
    const std::string error = r.text.substr(8, sep - 8), again = r.text.substr(sep + 1);
    EXPECT_TRUE(NamesFile(error, dir, rel, kind)) << where << ": the error does not name it";
    if (kind == Kind::kRocksLog) {  // the first open sees the damage itself: name it, or its loss
      EXPECT_TRUE(error.find(rel) != std::string::npos ||
                  error.find("RocksDB found no log of its own (" + dir + "/rocksdb/*.log)") !=
                      std::string::npos)
          << where << ": " << error;
    }
    EXPECT_NE(again, "OPENED") << where << ": refused, then opened";
    EXPECT_TRUE(NamesFile(again, dir, rel, kind)) << where << ": the second refusal: " << again;
    return "refused: " + error;
  }
  EXPECT_TRUE(OpenMaySucceed(kind, d)) << where << ": opened, where the design says it must not";
  if (sep == std::string::npos || r.text.find("ERROR") != std::string::npos) {
    ADD_FAILURE() << where << ": opened, then: " << r.text;
    return "opened, then failed";
  }
  const State state = ParseState(r.text.substr(0, sep));
  EXPECT_EQ(ParseState(r.text.substr(sep + 1)), state) << where << ": a reopen sees another state";
  const std::vector<std::string> i1 = I1Violations(state);
  EXPECT_TRUE(i1.empty()) << where << ": I1: " << i1.front();
  std::optional<size_t> prefix;
  for (size_t n = kTxns + 1; n-- > 0 && !prefix.has_value();) {
    if (ModelAfter(Tmpl().ids, n) == state) prefix = n;
  }
  if (!prefix.has_value()) {
    ADD_FAILURE() << where << ": the state is no prefix of the history";
    return "opened: NOT A PREFIX";
  }
  EXPECT_GE(*prefix, MustKeep(kind)) << where << ": lost transactions the file did not hold";
  if (*prefix < kTxns && d != Damage::kDelete) {
    EXPECT_TRUE(NamesFile(verify_out, dir, rel, kind))
        << where << ": the open lost transactions that verify did not warn of:\n"
        << verify_out;
  }
  return "opened, " + std::to_string(*prefix) + "/" + std::to_string(kTxns) + " txns";
}

class DamagedDirTest : public ::testing::TestWithParam<Kind> {};

TEST_P(DamagedDirTest, EveryDamageOpensAsDesignedOrNamesTheFile) {
  const Kind kind = GetParam();
  const Template& t = Tmpl();
  ASSERT_EQ(t.ids.size(), kTxns);
  ASSERT_TRUE(fs::exists(t.dir + "/" + engine::kRecoveryFile));
  std::vector<std::string> files;
  for (const std::string& rel : RegularFiles(t.dir)) {
    const std::optional<Kind> k = KindOf(rel);
    EXPECT_TRUE(k.has_value()) << rel << " is a file this suite does not damage";
    if (k == kind) files.push_back(rel);
  }
  // A crashed process leaves no CHECKPOINT_FAILED unless its checkpoints were failing: write one.
  if (kind == Kind::kCheckpointFailed) files.push_back(engine::kCheckpointFailureFile);
  ASSERT_FALSE(files.empty()) << "the directory has no " << NameOf(kind).label;

  for (const std::string& rel : files) {
    for (const auto& [d, damage_name] : kDamages) {
      SCOPED_TRACE(rel + " " + damage_name);
      ScratchDir scratch;
      const std::string dir = scratch.Join("cache");
      fs::copy(t.dir, dir, fs::copy_options::recursive);
      if (kind == Kind::kCheckpointFailed) {
        ASSERT_TRUE(engine::WriteCheckpointFailure(FileSystem::Posix(), dir,
                                                   {1700000000000, 2, "IO error: injected"})
                        .ok());
      }
      const std::string skipped = ApplyDamage(dir, rel, d);
      std::string line = std::string(NameOf(kind).label) + " | " + rel + " | " + damage_name;
      if (!skipped.empty()) {
        std::printf("DAMAGE %s | skipped: %s\n", line.c_str(), skipped.c_str());
        continue;
      }
      const auto before = Snapshot(dir, true, true);
      std::string codes, verify_out;
      for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
               {"verify"}, {"verify", "--json"}, {"inspect"}, {"inspect", "--json"}}) {
        const CliRun r = CheckReadOnly(cmd, dir, rel, kind, d);
        if (cmd.size() == 1 && cmd[0] == "verify") verify_out = r.out + r.err;
        codes += " " + std::to_string(r.code);
        EXPECT_EQ(Snapshot(dir, true, true), before) << cmd[0] << " changed the directory";
      }
      const std::string open = CheckOpen(dir, rel, kind, d, verify_out);
      // `verify` may pass a directory that cannot open only for a lock it cannot take.
      if (codes.starts_with(" 0") && kind != Kind::kLock && kind != Kind::kRocksLock) {
        EXPECT_TRUE(open.starts_with("opened")) << "verify passed, but: " << open;
      }
      line += " | verify, --json, inspect, --json:" + codes + " | " + open;
      std::printf("DAMAGE %s\n", line.c_str());
      std::fflush(stdout);
      std::error_code ec;  // so that ScratchDir can remove it
      fs::permissions(dir + "/" + rel, fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
}

std::vector<Kind> AllKinds() {
  std::vector<Kind> all;
  for (const KindName& k : kKinds) all.push_back(k.kind);
  return all;
}

INSTANTIATE_TEST_SUITE_P(Files, DamagedDirTest, ::testing::ValuesIn(AllKinds()),
                         [](const auto& info) { return std::string(NameOf(info.param).id); });

}  // namespace
}  // namespace walcache::cli_test
