// End-to-end tests of the `walcache` admin CLI (tools/cmd_*.cc): the real binary, run with
// fork/exec and its stdout, stderr and exit code captured, on real directories in every state a
// command may meet — clean, crashed with a torn tail, corrupt mid-log, held open by a live
// process, empty, foreign (not a walcache directory), missing, unreadable — and on damage made
// precisely: garbage appended after the last valid record, one bit flipped inside an earlier
// record's payload (docs/wal-format.md), an entry or an index edge rewritten behind the engine's
// back through engine::RocksStore. Exit codes (0 ok, 1 problem found, 2 could not run, CLI11's
// own >= 100), one-line errors naming the path, every --json document field by field (parsed
// with tests/mini_json.h), and that read-only commands change nothing.
//
// The library (walcache::Cache, engine::RocksStore) is used only in forked children, never in
// the test process: RocksDB starts background threads that a later fork would not inherit, so a
// child forked after the parent used RocksDB could wait forever for them.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/rocks_store.h"
#include "tests/mini_json.h"
#include "tests/test_util.h"
#include "walcache/cache.h"

#ifndef WALCACHE_CLI
#error "WALCACHE_CLI must be the path of the walcache binary (see tests/CMakeLists.txt)"
#endif

namespace walcache {
namespace {

namespace fs = std::filesystem;
using test::Json;
using test::ScratchDir;

constexpr uint64_t kSegmentSize = 256 << 10;  // WAL segments of the caches the tests make
constexpr uint64_t kSegmentHeaderSize = 36;   // docs/wal-format.md
constexpr uint64_t kRecordHeaderSize = 26;

// ---- Running the CLI ----------------------------------------------------------------------------

struct CliRun {
  int code = -1;  // the exit status; 128 + N if killed by signal N
  std::string out, err;
};

std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

constexpr int kCannotDropPrivileges = 126;

// Runs `walcache ARGS...` with `input` on its stdin (then EOF); as user and group `as` if given
// (exit kCannotDropPrivileges if that fails).
CliRun Cli(const std::vector<std::string>& args, const std::string& input = "",
           std::optional<std::pair<uid_t, gid_t>> as = std::nullopt) {
  static const bool ignore_sigpipe = (::signal(SIGPIPE, SIG_IGN), true);
  (void)ignore_sigpipe;
  CliRun r;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return r;
  }
  std::vector<std::string> words = {WALCACHE_CLI};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    if (as.has_value() &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(as->second, as->second, as->second) != 0 ||
         ::setresuid(as->first, as->first, as->first) != 0)) {
      ::_exit(kCannotDropPrivileges);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "walcache did not finish in 60 s; killed";
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid) {
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // In a sanitized build a report may exit 1, which could pass for "found a problem".
  for (const char* report : {"Sanitizer", "runtime error:"}) {
    if (r.err.find(report) != std::string::npos) ADD_FAILURE() << "sanitizer report:\n" << r;
  }
  return r;
}

// The JSON document a command printed on stdout (null, and a failure, if it is not one).
Json ParseJson(const CliRun& r) {
  std::string error;
  std::optional<Json> j = Json::Parse(r.out, &error);
  if (!j.has_value()) {
    ADD_FAILURE() << "not JSON (" << error << "):\n" << r;
    return Json();
  }
  return *std::move(j);
}

// stderr is exactly one line, and it names `path`.
::testing::AssertionResult OneLineNaming(const CliRun& r, const std::string& path) {
  if (r.err.empty() || r.err.back() != '\n' || r.err.find('\n') != r.err.size() - 1) {
    return ::testing::AssertionFailure() << "stderr is not one line:\n" << r;
  }
  if (r.err.find(path) == std::string::npos) {
    return ::testing::AssertionFailure() << "stderr does not name " << path << ":\n" << r;
  }
  return ::testing::AssertionSuccess();
}

// The number after "NAME=" in `text`, or UINT64_MAX.
uint64_t Field(const std::string& text, const std::string& name) {
  const size_t at = text.find(" " + name + "=");
  if (at == std::string::npos) return UINT64_MAX;
  const size_t start = at + name.size() + 2;
  const size_t end = text.find_first_not_of("0123456789", start);
  if (end == start) return UINT64_MAX;
  return std::stoull(text.substr(start, end - start));
}

// ---- The directory as files ---------------------------------------------------------------------

bool IsRocksDbInfoLog(const fs::path& p) { return p.filename().string().starts_with("LOG"); }

// Relative path -> "size hash" of every file under `dir` (directories as "dir"), RocksDB's info
// logs excepted (RocksDB may append to them at any time); LOCK too unless `with_lock`.
std::map<std::string, std::string> Snapshot(const std::string& dir, bool with_lock = true) {
  std::map<std::string, std::string> snap;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (it->is_directory()) {
      snap[rel] = "dir";
    } else if (!IsRocksDbInfoLog(it->path()) && (with_lock || rel != "LOCK")) {
      const std::string data = test::ReadFile(it->path().string());
      snap[rel] =
          std::to_string(data.size()) + " " + std::to_string(std::hash<std::string_view>()(data));
    }
  }
  if (ec) ADD_FAILURE() << "cannot list " << dir << ": " << ec.message();
  return snap;
}

// Bytes of the regular files under `path`, RocksDB's info logs excepted (as `compact` counts).
uint64_t TreeBytes(const std::string& path) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    if (e.is_regular_file() && !IsRocksDbInfoLog(e.path())) n += e.file_size();
  }
  return n;
}

std::vector<std::string> WalFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir + "/wal")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---- The library, in forked children -----------------------------------------------------------

Options TestOptions() {
  Options o;
  o.wal_segment_size = kSegmentSize;
  // No background checkpoint: what a test writes stays in the WAL until a close or a Compact.
  o.checkpoint_wal_bytes = 0;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  return o;
}

// Runs `body` in a forked child and returns the text it returned; the child then _exits, so
// nothing it opened is closed unless `body` closed it. "ERROR ..." from `body` fails the test.
std::string InChild(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return "";
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string text = body();
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) ::_exit(3);
      done += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_FALSE(text.starts_with("ERROR")) << text;
  return text;
}

// The clean fixture: five entries, profile:1 derived from user:1; the cache closed (checkpointed).
// Returns key -> update_id.
std::map<std::string, uint64_t> MakeClean(const std::string& dir) {
  const std::string text = InChild([&]() -> std::string {
    auto c = Cache::Open(dir, TestOptions());
    if (!c.ok()) return "ERROR " + c.status().ToString();
    std::string out;
    uint64_t user1 = 0;
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"user:1", "alice"}, {"user:2", "bob"}, {"user:3", "carol"}, {"item:1", "lamp"}}) {
      auto id = (*c)->Put(k, v);
      if (!id.ok()) return "ERROR " + id.status().ToString();
      if (k == "user:1") user1 = *id;
      out += k + " " + std::to_string(*id) + "\n";
    }
    auto id = (*c)->Put("profile:1", "<p>alice</p>", {.related = {{"user:1", user1}}});
    if (!id.ok()) return "ERROR " + id.status().ToString();
    return out + "profile:1 " + std::to_string(*id) + "\n";  // ~Cache: checkpoint and close
  });
  std::map<std::string, uint64_t> ids;
  std::istringstream in(text);
  std::string key;
  uint64_t id = 0;
  while (in >> key >> id) ids[key] = id;
  EXPECT_EQ(ids.size(), 5u) << text;
  return ids;
}

// A cache opened and closed with nothing written.
void MakeEmpty(const std::string& dir) {
  InChild([&]() -> std::string {
    auto c = Cache::Open(dir, TestOptions());
    return c.ok() ? "" : "ERROR " + c.status().ToString();
  });
}

// Transaction i of the crash fixture writes k<i> = v<i> and shared:<i % 3> = s<i>.
std::string TxnKey(size_t i) { return (i < 10 ? "k0" : "k") + std::to_string(i); }
std::string TxnValue(size_t i) { return "v" + std::to_string(i); }
std::string SharedKey(size_t i) { return "shared:" + std::to_string(i % 3); }
std::string SharedValue(size_t i) { return "s" + std::to_string(i); }

// A process opens a cache, commits `n` transactions (sync durability, so each is durable when
// acknowledged) and dies without closing: every record stays in the WAL after checkpoint_seq 0.
// Returns the acknowledged updateId of each transaction.
std::vector<uint64_t> CrashAfterCommits(const std::string& dir, size_t n) {
  const std::string text = InChild([&]() -> std::string {
    auto c = Cache::Open(dir, TestOptions());
    if (!c.ok()) return "ERROR " + c.status().ToString();
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      Transaction t = (*c)->Begin();
      t.Put(TxnKey(i), TxnValue(i));
      t.Put(SharedKey(i), SharedValue(i));
      auto id = t.Commit();
      if (!id.ok()) return "ERROR " + id.status().ToString();
      out += std::to_string(*id) + "\n";
    }
    (void)std::move(c).value().release();  // dies without a close: no checkpoint
    return out;
  });
  std::vector<uint64_t> ids;
  std::istringstream in(text);
  uint64_t id = 0;
  while (in >> id) ids.push_back(id);
  EXPECT_EQ(ids.size(), n) << text;
  return ids;
}

struct Item {
  std::string value;
  uint64_t update_id = 0;
  friend bool operator==(const Item&, const Item&) = default;
};
using State = std::map<std::string, Item>;

std::ostream& operator<<(std::ostream& os, const Item& i) {
  return os << "{" << i.value << " @" << i.update_id << "}";
}

// Opens the cache through the library (recovery and all), reads every live entry, closes it.
// nullopt if the open fails (*error says why).
std::optional<State> OpenAndReadAll(const std::string& dir, std::string* error) {
  const std::string text = InChild([&]() -> std::string {
    auto c = Cache::Open(dir, TestOptions());
    if (!c.ok()) return "OPEN FAILED " + c.status().ToString();
    std::string out;
    Status s = (*c)->Scan("", [&](std::string_view k, const Entry& e) {
      out += std::string(k) + "\t" + e.value + "\t" + std::to_string(e.update_id) + "\n";
      return true;
    });
    return s.ok() ? out : "ERROR " + s.ToString();
  });
  if (text.starts_with("OPEN FAILED")) {
    *error = text;
    return std::nullopt;
  }
  State state;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find('\t'), b = line.rfind('\t');
    state[line.substr(0, a)] = Item{line.substr(a + 1, b - a - 1), std::stoull(line.substr(b + 1))};
  }
  return state;
}

// Applies `edit` to DIR/rocksdb directly, at its own checkpoint_seq (the cache must be closed).
void TamperStore(const std::string& dir,
                 const std::function<void(engine::RocksStore::Checkpoint*)>& edit) {
  InChild([&]() -> std::string {
    engine::StoreOptions so;
    so.create_if_missing = false;
    auto store = engine::RocksStore::Open(dir + "/rocksdb", so);
    if (!store.ok()) return "ERROR " + store.status().ToString();
    engine::RocksStore::Checkpoint cp;
    edit(&cp);
    const Status s = (*store)->Apply(std::move(cp), (*store)->checkpoint_seq());
    return s.ok() ? "" : "ERROR " + s.ToString();
  });
}

// A live process that holds `dir` open (a Cache) until destroyed.
class HeldOpen {
 public:
  explicit HeldOpen(const std::string& dir) {
    int ready[2], go[2];
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(go[1]);
      auto c = Cache::Open(dir, TestOptions());
      const char r = c.ok() ? 'R' : 'E';
      (void)!::write(ready[1], &r, 1);
      char byte;
      while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);  // dies holding it: nothing is written on the way out
    }
    ::close(ready[1]);
    ::close(go[0]);
    go_ = go[1];
    char r = 0;
    while (::read(ready[0], &r, 1) < 0 && errno == EINTR) {
    }
    ::close(ready[0]);
    EXPECT_EQ(r, 'R') << "the holder could not open " << dir;
  }
  ~HeldOpen() {
    if (pid_ <= 0) return;
    ::close(go_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  HeldOpen(const HeldOpen&) = delete;
  HeldOpen& operator=(const HeldOpen&) = delete;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

// ---- Fixtures made of the pieces above ----------------------------------------------------------

// The state after the first `n` transactions of the crash fixture.
State StateAfter(const std::vector<uint64_t>& ids, size_t n) {
  State s;
  for (size_t i = 0; i < n; ++i) {
    s[TxnKey(i)] = {TxnValue(i), ids[i]};
    s[SharedKey(i)] = {SharedValue(i), ids[i]};
  }
  return s;
}

// The state the records of a `wal dump --json` with seq <= up_to describe, each record's keys
// given the values its transaction wrote (found by its seq among `ids`).
State StateFromDump(const Json& dump, const std::vector<uint64_t>& ids, uint64_t up_to) {
  State s;
  for (const Json& r : dump["records"].array()) {
    const uint64_t seq = r["seq"].u64();
    if (seq > up_to) continue;
    const size_t i = std::find(ids.begin(), ids.end(), seq) - ids.begin();
    if (i == ids.size()) {
      ADD_FAILURE() << "record seq " << seq << " was never acknowledged";
      continue;
    }
    for (const Json& k : r["keys"].array()) {
      if (k.str() == TxnKey(i)) {
        s[k.str()] = {TxnValue(i), seq};
      } else if (k.str() == SharedKey(i)) {
        s[k.str()] = {SharedValue(i), seq};
      } else {
        ADD_FAILURE() << "record seq " << seq << " holds unexpected key " << k.str();
      }
    }
  }
  return s;
}

class CliTest : public ::testing::Test {
 protected:
  std::string Dir() const { return dir_.path(); }
  std::string Abs(const std::string& rel) const { return dir_.Join(rel); }

  Json WalDump() {
    const CliRun r = Cli({"wal", "dump", Dir(), "--json"});
    EXPECT_TRUE(r.code == 0 || r.code == 1) << r;
    return ParseJson(r);
  }

  // Crash fixture + garbage written right after the last valid record: a torn tail.
  void MakeTorn(size_t n) {
    ids_ = CrashAfterCommits(Dir(), n);
    const Json before = WalDump();
    ASSERT_EQ(before["tail"]["state"].str(), "clean");
    segment_ = Abs(before["tail"]["file"].str());
    valid_end_ = before["tail"]["offset"].u64();
    ASSERT_EQ(valid_end_,
              before["records"][n - 1]["offset"].u64() + before["records"][n - 1]["length"].u64());
    test::Overwrite(segment_, valid_end_, std::string(kGarbage));
  }

  // Crash fixture, then one bit flipped in the payload of record `bad`; valid records follow.
  void MakeCorruptMiddle(size_t n, size_t bad) {
    ids_ = CrashAfterCommits(Dir(), n);
    dump_before_ = WalDump();
    ASSERT_EQ(dump_before_["records"].size(), n);
    const Json& rec = dump_before_["records"][bad];
    segment_ = Abs(rec["file"].str());
    valid_end_ = rec["offset"].u64();
    const Json& last = dump_before_["records"][n - 1];
    data_end_ = last["offset"].u64() + last["length"].u64();
    const uint64_t payload = rec["length"].u64() - kRecordHeaderSize;
    ASSERT_GT(payload, 4u);
    test::FlipBit(segment_, valid_end_ + kRecordHeaderSize + payload / 2, 3);
  }

  static constexpr std::string_view kGarbage = "\x5a\x17\xff torn append, never acknowledged \x01";

  ScratchDir dir_;
  std::vector<uint64_t> ids_;
  Json dump_before_;
  std::string segment_;
  uint64_t valid_end_ = 0;
  uint64_t data_end_ = 0;
};

// The read-only commands, DIR left "" (see WithDir).
std::vector<std::vector<std::string>> ReadOnlyCommands() {
  return {{"inspect"}, {"get", "", "user:1"}, {"scan"}, {"wal", "dump"}, {"verify"}};
}

// `cmd` with `dir` put in place of its DIR argument (the first "" or the end).
std::vector<std::string> WithDir(std::vector<std::string> cmd, const std::string& dir) {
  auto it = std::find(cmd.begin(), cmd.end(), "");
  if (it != cmd.end()) {
    *it = dir;
  } else {
    cmd.push_back(dir);
  }
  return cmd;
}

// ---- The JSON reader the tests rely on ---------------------------------------------------------

TEST(MiniJson, ParsesEveryKindOfValueAndRejectsJunk) {
  std::string error;
  const std::optional<Json> j = Json::Parse(
      R"( {"s": "q\"b\\s\/\n\t\u0001\u00e9\ud83d\ude00", "n": 18446744073709551615,
           "f": -1.5e2, "a": [true, false, null, {}, []], "o": {"k": 0}} )",
      &error);
  ASSERT_TRUE(j.has_value()) << error;
  EXPECT_EQ((*j)["s"].str(), "q\"b\\s/\n\t\x01\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ((*j)["n"].u64(), UINT64_MAX);
  EXPECT_EQ((*j)["f"].number(), -150.0);
  EXPECT_EQ((*j)["f"].u64(), UINT64_MAX) << "not an unsigned integer";
  ASSERT_EQ((*j)["a"].size(), 5u);
  EXPECT_TRUE((*j)["a"][0].boolean());
  EXPECT_FALSE((*j)["a"][1].boolean());
  EXPECT_TRUE((*j)["a"][2].is_null());
  EXPECT_EQ((*j)["a"][3].type(), Json::Type::kObject);
  EXPECT_EQ((*j)["o"]["k"].u64(), 0u);
  EXPECT_TRUE((*j)["missing"].is_null());
  EXPECT_FALSE(j->Has("missing"));
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "\"a\nb\"", "tru", "{} {}",
                          "\"\\ud800\"", "1."}) {
    EXPECT_FALSE(Json::Parse(bad, &error).has_value()) << bad;
  }
}

// ---- Help and parse errors ----------------------------------------------------------------------

TEST(CliHelp, EverySubcommandShowsAnExample) {
  const std::vector<std::vector<std::string>> commands = {{"inspect"}, {"get"},    {"scan"},
                                                          {"put"},     {"del"},    {"wal", "dump"},
                                                          {"verify"},  {"repair"}, {"compact"}};
  for (const std::vector<std::string>& cmd : commands) {
    std::vector<std::string> args = cmd;
    args.push_back("--help");
    const CliRun r = Cli(args);
    EXPECT_EQ(r.code, 0) << r;
    const size_t example = r.out.find("Example:\n  walcache " + cmd[0] + " ");
    EXPECT_NE(example, std::string::npos) << r;
    EXPECT_NE(r.out.find(cmd.back() + " /", example), std::string::npos)
        << "an example of itself: " << r;
  }
}

TEST(CliParse, ParseErrorsKeepCli11sExitCodeAndNameTheProblem) {
  const CliRun no_args = Cli({"get"});
  EXPECT_GE(no_args.code, 100) << no_args;
  EXPECT_NE(no_args.err.find("DIR is required"), std::string::npos) << no_args;
  EXPECT_TRUE(no_args.out.empty()) << no_args;

  ScratchDir dir;
  const CliRun bad_number = Cli({"scan", dir.path(), "--limit", "notanumber"});
  EXPECT_GE(bad_number.code, 100) << bad_number;
  EXPECT_NE(bad_number.err.find("--limit"), std::string::npos) << bad_number;
  EXPECT_NE(bad_number.err.find("notanumber"), std::string::npos) << bad_number;

  const CliRun no_subcommand = Cli({});
  EXPECT_GE(no_subcommand.code, 100) << no_subcommand;
  const CliRun wal_alone = Cli({"wal"});
  EXPECT_GE(wal_alone.code, 100) << wal_alone;
  const CliRun unknown = Cli({"frobnicate", dir.path()});
  EXPECT_GE(unknown.code, 100) << unknown;
  EXPECT_NE(unknown.err.find("subcommand"), std::string::npos) << unknown;
  EXPECT_TRUE(fs::is_empty(dir.path())) << "no command ran";
}

// ---- A clean directory --------------------------------------------------------------------------

TEST_F(CliTest, InspectCleanDirectoryJsonFieldByField) {
  const auto ids = MakeClean(Dir());
  const uint64_t before_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(r.err.empty()) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["dir"].str(), Dir());
  EXPECT_FALSE(j["held"].boolean());
  EXPECT_EQ(j["holder"].str(), "");
  EXPECT_EQ(j["checkpoint_seq"].u64(), ids.at("profile:1")) << "closed: all checkpointed";
  EXPECT_EQ(j["last_seq"].u64(), ids.at("profile:1"));
  const Json& w = j["wal"];
  EXPECT_EQ(w["segments"].u64(), test::SegmentPaths(Abs("wal")).size());
  EXPECT_EQ(w["bytes"].u64(), TreeBytes(Abs("wal")));
  EXPECT_EQ(w["records_after_checkpoint"].u64(), 0u);
  EXPECT_EQ(w["tail"].str(), "clean");
  EXPECT_TRUE(w["tail_file"].str().starts_with("wal/")) << w["tail_file"].str();
  EXPECT_TRUE(fs::exists(Abs(w["tail_file"].str())));
  EXPECT_GE(w["tail_offset"].u64(), kSegmentHeaderSize);
  EXPECT_EQ(w["tail_dropped_bytes"].u64(), 0u);
  EXPECT_EQ(w["error"].str(), "");
  EXPECT_FALSE(j["keys"]["exact"].boolean());
  EXPECT_EQ(j["keys"]["estimate"].u64(), 5u);
  EXPECT_EQ(j["dependents"].u64(), 1u) << "user:1 -> profile:1";
  EXPECT_EQ(j["rocksdb"].type(), Json::Type::kObject);
  const Json& lr = j["last_recovery"];
  ASSERT_EQ(lr.type(), Json::Type::kObject) << r;
  EXPECT_EQ(lr["checkpoint_seq"].u64(), 0u) << "the fixture's open found a new directory";
  EXPECT_EQ(lr["last_seq"].u64(), 0u);
  EXPECT_EQ(lr["records_replayed"].u64(), 0u);
  EXPECT_EQ(lr["tail_bytes_dropped"].u64(), 0u);
  EXPECT_GT(lr["opened_at_ms"].u64(), 0u);
  EXPECT_LE(lr["opened_at_ms"].u64(), before_ms);
  EXPECT_NE(lr["summary"].str().find("checkpoint seq 0"), std::string::npos) << lr["summary"].str();

  const Json exact = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_TRUE(exact["keys"]["exact"].boolean());
  EXPECT_EQ(exact["keys"]["live"].u64(), 5u);
  EXPECT_EQ(exact["keys"]["expired"].u64(), 0u);

  const CliRun text = Cli({"inspect", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("(not open)"), std::string::npos) << text;
  EXPECT_NE(text.out.find("tail            clean"), std::string::npos) << text;
}

TEST_F(CliTest, GetPrintsTheEntryWithItsUpdateIdAndRelatedKeys) {
  const auto ids = MakeClean(Dir());
  const CliRun text = Cli({"get", Dir(), "profile:1"});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_EQ(text.out, "profile:1 = <p>alice</p>  (update_id " +
                          std::to_string(ids.at("profile:1")) + ", related user:1@" +
                          std::to_string(ids.at("user:1")) + ")\n");
  EXPECT_TRUE(text.err.empty()) << text;

  const CliRun r = Cli({"get", Dir(), "profile:1", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["key"].str(), "profile:1");
  EXPECT_EQ(j["value"].str(), "<p>alice</p>");
  EXPECT_FALSE(j.Has("value_hex"));
  EXPECT_EQ(j["update_id"].u64(), ids.at("profile:1"));
  EXPECT_EQ(j["expires_at"].u64(), 0u);
  ASSERT_EQ(j["related"].size(), 1u);
  EXPECT_EQ(j["related"][0]["key"].str(), "user:1");
  EXPECT_EQ(j["related"][0]["update_id"].u64(), ids.at("user:1"));
  EXPECT_TRUE(j["found"].boolean());
}

TEST_F(CliTest, GetOfAMissingKeyExitsOne) {
  MakeClean(Dir());
  const CliRun text = Cli({"get", Dir(), "user:9"});
  EXPECT_EQ(text.code, 1) << text;
  EXPECT_TRUE(text.out.empty()) << text;
  EXPECT_NE(text.err.find("user:9: not found"), std::string::npos) << text;
  const CliRun r = Cli({"get", Dir(), "user:9", "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["key"].str(), "user:9");
  EXPECT_FALSE(j["found"].boolean());
  EXPECT_FALSE(j["expired"].boolean());
}

TEST_F(CliTest, GetShowsANonPrintableValueInHex) {
  const std::string value = std::string("\x01\x02", 2) + "ab\x7f";
  const CliRun put = Cli({"put", Dir(), "bin", value});
  ASSERT_EQ(put.code, 0) << put;
  const CliRun text = Cli({"get", Dir(), "bin"});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_EQ(text.out, "bin = 0x010261627f  (update_id 1)\n");
  const Json j = ParseJson(Cli({"get", Dir(), "bin", "--json"}));
  EXPECT_EQ(j["value"].str(), "010261627f");
  EXPECT_TRUE(j["value_hex"].boolean());
  EXPECT_FALSE(j.Has("key_hex"));
  EXPECT_EQ(j["update_id"].u64(), 1u);
}

TEST_F(CliTest, JsonEscapesQuotesAndBackslashesAndShowsControlCharactersInHex) {
  const std::string key = "say \"hi\" \\o/";
  ASSERT_EQ(Cli({"put", Dir(), key, "tab\there"}).code, 0);
  const CliRun r = Cli({"scan", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  ASSERT_EQ(j["entries"].size(), 1u) << r;
  EXPECT_EQ(j["entries"][0]["key"].str(), key);
  EXPECT_FALSE(j["entries"][0].Has("key_hex"));
  EXPECT_EQ(j["entries"][0]["value"].str(), "7461620968657265");
  EXPECT_TRUE(j["entries"][0]["value_hex"].boolean());
  const Json d = ParseJson(Cli({"get", Dir(), key, "--json"}));
  EXPECT_EQ(d["key"].str(), key);
  EXPECT_TRUE(d["found"].boolean());
}

TEST_F(CliTest, ScanFiltersByPrefixAndStopsAtTheLimit) {
  const auto ids = MakeClean(Dir());
  const CliRun all = Cli({"scan", Dir(), "--prefix", "user:", "--json"});
  ASSERT_EQ(all.code, 0) << all;
  const Json j = ParseJson(all);
  ASSERT_EQ(j["entries"].size(), 3u) << all;
  for (size_t i = 0; i < 3; ++i) {
    const std::string key = "user:" + std::to_string(i + 1);
    EXPECT_EQ(j["entries"][i]["key"].str(), key);
    EXPECT_EQ(j["entries"][i]["update_id"].u64(), ids.at(key));
  }
  EXPECT_EQ(j["entries"][1]["value"].str(), "bob");
  EXPECT_EQ(j["count"].u64(), 3u);
  EXPECT_FALSE(j["truncated"].boolean());

  const Json two = ParseJson(Cli({"scan", Dir(), "--prefix", "user:", "--limit", "2", "--json"}));
  ASSERT_EQ(two["entries"].size(), 2u);
  EXPECT_EQ(two["entries"][1]["key"].str(), "user:2");
  EXPECT_EQ(two["count"].u64(), 2u);
  EXPECT_TRUE(two["truncated"].boolean());
  const Json exact = ParseJson(Cli({"scan", Dir(), "--prefix", "user:", "--limit", "3", "--json"}));
  EXPECT_EQ(exact["count"].u64(), 3u);
  EXPECT_FALSE(exact["truncated"].boolean()) << "nothing was left out";

  const CliRun text = Cli({"scan", Dir(), "--limit", "1"});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_EQ(text.out, "item:1 = lamp  (update_id " + std::to_string(ids.at("item:1")) +
                          ")\n1 entries (limit reached)\n");
  const Json none = ParseJson(Cli({"scan", Dir(), "--prefix", "nobody:", "--json"}));
  EXPECT_EQ(none["count"].u64(), 0u);
  EXPECT_EQ(none["entries"].size(), 0u);
}

TEST_F(CliTest, VerifyOfACleanDirectoryIsOk) {
  const auto ids = MakeClean(Dir());
  const CliRun r = Cli({"verify", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["dir"].str(), Dir());
  EXPECT_TRUE(j["ok"].boolean());
  EXPECT_EQ(j["problem_count"].u64(), 0u);
  EXPECT_EQ(j["problems"].size(), 0u);
  EXPECT_EQ(j["notes"].size(), 0u);
  EXPECT_EQ(j["checkpoint_seq"].u64(), ids.at("profile:1"));
  EXPECT_EQ(j["last_seq"].u64(), ids.at("profile:1"));
  EXPECT_EQ(j["tail"].str(), "clean");
  EXPECT_EQ(j["entries"].u64(), 5u);
  EXPECT_EQ(j["index_edges"].u64(), 1u);
  const CliRun text = Cli({"verify", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_TRUE(text.out.starts_with("verify: ok (5 entries, 1 index edges")) << text;
}

TEST_F(CliTest, RepairOfACleanDirectoryHasNothingToDo) {
  MakeClean(Dir());
  const auto before = Snapshot(Dir(), /*with_lock=*/false);
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("analyzed: "), std::string::npos) << r;
  EXPECT_NE(r.out.find(" tail=clean "), std::string::npos) << r;
  EXPECT_EQ(Field(r.out, "dropped"), 0u) << r;
  EXPECT_NE(r.out.find("nothing to repair"), std::string::npos) << r;
  EXPECT_EQ(Snapshot(Dir(), false), before);
}

// ---- put and del --------------------------------------------------------------------------------

TEST_F(CliTest, PutCreatesAMissingDirectoryAndWritesThroughTheEngine) {
  const std::string dir = Abs("new");
  const CliRun first = Cli({"put", dir, "user:1", "alice", "--json"});
  ASSERT_EQ(first.code, 0) << first;
  const Json j = ParseJson(first);
  EXPECT_EQ(j["key"].str(), "user:1");
  EXPECT_EQ(j["update_id"].u64(), 1u);
  EXPECT_TRUE(fs::is_directory(dir + "/rocksdb"));
  const CliRun second = Cli({"put", dir, "profile:1", "<p>", "--related", "user:1@1"});
  ASSERT_EQ(second.code, 0) << second;
  EXPECT_EQ(second.out, "put profile:1: update_id 2\n");
  const Json got = ParseJson(Cli({"get", dir, "profile:1", "--json"}));
  EXPECT_EQ(got["update_id"].u64(), 2u);
  EXPECT_EQ(got["related"][0]["key"].str(), "user:1");
  EXPECT_EQ(got["related"][0]["update_id"].u64(), 1u);
  EXPECT_EQ(Cli({"verify", dir}).code, 0);
}

TEST_F(CliTest, PutWithAMismatchingRelatedExitsOneAndWritesNothing) {
  const auto ids = MakeClean(Dir());
  const std::string stale = "user:2@" + std::to_string(ids.at("user:2") + 100);
  const CliRun r = Cli({"put", Dir(), "card:2", "<c>", "--related", stale});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(r.out.empty()) << r;
  EXPECT_NE(r.err.find("user:2"), std::string::npos) << r;
  EXPECT_EQ(Cli({"get", Dir(), "card:2"}).code, 1) << "a conflict writes nothing";
  const Json i = ParseJson(Cli({"inspect", Dir(), "--json"}));
  EXPECT_EQ(i["last_seq"].u64(), ids.at("profile:1")) << "no transaction was logged";

  const CliRun malformed = Cli({"put", Dir(), "card:2", "<c>", "--related", "user:2"});
  EXPECT_EQ(malformed.code, 2) << malformed;
  EXPECT_NE(malformed.err.find("KEY@UPDATE_ID"), std::string::npos) << malformed;
}

TEST_F(CliTest, DelDeletesAndInvalidatesWhatDerivesFromTheKey) {
  const auto ids = MakeClean(Dir());
  const CliRun r = Cli({"del", Dir(), "user:1", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["key"].str(), "user:1");
  EXPECT_EQ(j["update_id"].u64(), ids.at("profile:1") + 1);
  EXPECT_EQ(Cli({"get", Dir(), "user:1"}).code, 1);
  EXPECT_EQ(Cli({"get", Dir(), "profile:1"}).code, 1) << "derived from user:1";
  EXPECT_EQ(Cli({"get", Dir(), "user:2"}).code, 0);
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0);
}

// ---- Crashed with a torn tail -------------------------------------------------------------------

TEST_F(CliTest, TornTailWalDumpListsEveryRecordAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"wal", "dump", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  ASSERT_EQ(j["records"].size(), 6u) << r;
  uint64_t offset = kSegmentHeaderSize;
  for (size_t i = 0; i < 6; ++i) {
    const Json& rec = j["records"][i];
    EXPECT_EQ(rec["file"].str(), fs::relative(segment_, Dir()).string());
    EXPECT_EQ(rec["offset"].u64(), offset) << "records are back to back";
    EXPECT_GT(rec["length"].u64(), kRecordHeaderSize);
    offset += rec["length"].u64();
    EXPECT_EQ(rec["seq"].u64(), ids_[i]);
    EXPECT_EQ(rec["ops"].u64(), 2u);
    ASSERT_EQ(rec["keys"].size(), 2u);
    EXPECT_EQ(rec["keys"][0].str(), TxnKey(i));
    EXPECT_EQ(rec["keys"][1].str(), SharedKey(i));
    EXPECT_EQ(rec["stored_bytes"].u64() + kRecordHeaderSize, rec["length"].u64());
    EXPECT_FALSE(rec["compressed"].boolean());
    EXPECT_TRUE(rec["checksum_ok"].boolean());
  }
  const Json& t = j["tail"];
  EXPECT_EQ(t["state"].str(), "torn");
  EXPECT_EQ(t["file"].str(), fs::relative(segment_, Dir()).string());
  EXPECT_EQ(t["offset"].u64(), valid_end_);
  EXPECT_EQ(t["offset"].u64(), offset);
  EXPECT_EQ(t["dropped_bytes"].u64(), kGarbage.size());
  EXPECT_EQ(t["last_seq"].u64(), ids_.back());

  const Json from = ParseJson(
      Cli({"wal", "dump", Dir(), "--from", std::to_string(ids_[2]), "--limit", "2", "--json"}));
  ASSERT_EQ(from["records"].size(), 2u);
  EXPECT_EQ(from["records"][0]["seq"].u64(), ids_[2]);
  EXPECT_EQ(from["records"][1]["seq"].u64(), ids_[3]);
  const CliRun text = Cli({"wal", "dump", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("6 records; tail: torn at wal/"), std::string::npos) << text;
}

TEST_F(CliTest, TornTailInspectReportsItAndEveryRecordAfterTheCheckpoint) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["checkpoint_seq"].u64(), 0u) << "the process died before any checkpoint";
  EXPECT_EQ(j["last_seq"].u64(), ids_.back());
  EXPECT_FALSE(j["held"].boolean()) << "the holder is dead";
  const Json& w = j["wal"];
  EXPECT_EQ(w["records_after_checkpoint"].u64(), 6u);
  EXPECT_EQ(w["tail"].str(), "torn");
  EXPECT_EQ(w["tail_file"].str(), fs::relative(segment_, Dir()).string());
  EXPECT_EQ(w["tail_offset"].u64(), valid_end_);
  EXPECT_EQ(w["tail_dropped_bytes"].u64(), kGarbage.size());
  EXPECT_EQ(w["error"].str(), "");
  const Json exact = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(exact["keys"]["live"].u64(), 6u + 3u) << "k00..k05 and shared:0..2";
}

TEST_F(CliTest, TornTailGetAndScanServeEveryAcknowledgedCommit) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const Json g = ParseJson(Cli({"get", Dir(), SharedKey(4), "--json"}));
  EXPECT_EQ(g["value"].str(), SharedValue(4)) << "the last of 1 and 4";
  EXPECT_EQ(g["update_id"].u64(), ids_[4]);
  const CliRun r = Cli({"scan", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  State seen;
  for (const Json& e : j["entries"].array()) {
    seen[e["key"].str()] = {e["value"].str(), e["update_id"].u64()};
  }
  EXPECT_EQ(seen, StateAfter(ids_, 6));
}

TEST_F(CliTest, TornTailVerifyIsOkWithANote) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"verify", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_TRUE(j["ok"].boolean());
  EXPECT_EQ(j["problem_count"].u64(), 0u);
  EXPECT_EQ(j["tail"].str(), "torn");
  ASSERT_EQ(j["notes"].size(), 1u) << r;
  EXPECT_NE(j["notes"][0].str().find("torn"), std::string::npos) << r;
  EXPECT_NE(j["notes"][0].str().find(std::to_string(kGarbage.size()) + " bytes"), std::string::npos)
      << r;
  EXPECT_NE(j["notes"][0].str().find(segment_ + ":" + std::to_string(valid_end_)),
            std::string::npos)
      << r;
  EXPECT_EQ(j["last_seq"].u64(), ids_.back());
  EXPECT_EQ(j["entries"].u64(), 9u);
}

TEST_F(CliTest, TornTailRepairAnsweredNoChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  // Taking the lock records repair's pid in LOCK (as every opener does): LOCK is left out.
  const auto before = Snapshot(Dir(), /*with_lock=*/false);
  const CliRun no = Cli({"repair", Dir()}, "n\n");
  EXPECT_EQ(no.code, 1) << no;
  EXPECT_NE(no.out.find("Proceed? [y/N]"), std::string::npos) << no;
  EXPECT_NE(no.out.find("nothing changed"), std::string::npos) << no;
  EXPECT_EQ(Snapshot(Dir(), false), before);
  const CliRun eof = Cli({"repair", Dir()});
  EXPECT_EQ(eof.code, 1) << "no answer is no: " << eof;
  EXPECT_EQ(Snapshot(Dir(), false), before);
}

TEST_F(CliTest, TornTailRepairWithYesCutsItKeepsTheBytesAndLosesNoRecord) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const Json dump = WalDump();
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("analyzed: "), std::string::npos) << r;
  EXPECT_NE(r.out.find(" tail=torn "), std::string::npos) << r;
  const uint64_t ok_up_to = Field(r.out, "ok_up_to");
  EXPECT_EQ(ok_up_to, ids_.back()) << r;
  EXPECT_EQ(Field(r.out, "dropped"), kGarbage.size()) << r;
  EXPECT_NE(r.out.find("repaired"), std::string::npos) << r;
  // The torn bytes are kept beside the segment, not destroyed.
  const std::string saved = segment_ + ".cut-" + std::to_string(valid_end_);
  ASSERT_TRUE(fs::exists(saved)) << r;
  EXPECT_EQ(test::ReadFile(saved), kGarbage);
  EXPECT_NE(r.out.find(saved), std::string::npos) << r;
  EXPECT_EQ(test::FileSize(segment_), valid_end_);
  // Every record up to the cut is there, as the dump before the repair listed it.
  const State expected = StateFromDump(dump, ids_, ok_up_to);
  EXPECT_EQ(expected, StateAfter(ids_, 6));
  std::string error;
  const std::optional<State> state = OpenAndReadAll(Dir(), &error);
  ASSERT_TRUE(state.has_value()) << error;
  EXPECT_EQ(*state, expected);
  const CliRun v = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(v.code, 0) << v;
  EXPECT_EQ(ParseJson(v)["tail"].str(), "clean");
}

TEST_F(CliTest, TornTailPutRecoversDroppingTheTornBytesAndContinuesTheSequence) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"put", Dir(), "after", "crash", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseJson(r)["update_id"].u64(), ids_.back() + 1);
  const Json i = ParseJson(Cli({"inspect", Dir(), "--json"}));
  const Json& lr = i["last_recovery"];
  EXPECT_EQ(lr["checkpoint_seq"].u64(), 0u);
  EXPECT_EQ(lr["records_replayed"].u64(), 6u);
  EXPECT_EQ(lr["last_seq"].u64(), ids_.back());
  EXPECT_EQ(lr["tail_bytes_dropped"].u64(), kGarbage.size());
  EXPECT_EQ(i["wal"]["tail"].str(), "clean");
  EXPECT_FALSE(fs::exists(segment_)) << "put's close checkpointed; the segment went with it";
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0);
}

TEST_F(CliTest, TornTailCompactRecoversCheckpointsAndTruncatesTheWal) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const std::vector<std::string> wal_before = WalFiles(Dir());
  const uint64_t rocks_before = TreeBytes(Abs("rocksdb")), wal_bytes = TreeBytes(Abs("wal"));
  const CliRun r = Cli({"compact", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["dir"].str(), Dir());
  EXPECT_EQ(j["rocksdb_bytes_before"].u64(), rocks_before);
  EXPECT_EQ(j["wal_bytes_before"].u64(), wal_bytes);
  EXPECT_EQ(j["rocksdb_bytes_after"].u64(), TreeBytes(Abs("rocksdb")));
  EXPECT_EQ(j["wal_bytes_after"].u64(), TreeBytes(Abs("wal")));
  EXPECT_GT(j["rocksdb_bytes_after"].u64(), 0u);
  EXPECT_GE(j["seconds"].number(), 0.0);
  // WAL truncated: the segments it had are gone, and no record follows the checkpoint.
  for (const std::string& name : WalFiles(Dir())) {
    EXPECT_EQ(std::count(wal_before.begin(), wal_before.end(), name), 0) << name << " survived";
  }
  const Json i = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(i["checkpoint_seq"].u64(), ids_.back());
  EXPECT_EQ(i["last_seq"].u64(), ids_.back());
  EXPECT_EQ(i["wal"]["records_after_checkpoint"].u64(), 0u);
  EXPECT_EQ(i["wal"]["tail"].str(), "clean");
  EXPECT_EQ(i["keys"]["live"].u64(), 9u);
  EXPECT_EQ(WalDump()["records"].size(), 0u);
}

// ---- Corrupt in the middle of the log -----------------------------------------------------------

TEST_F(CliTest, CorruptMiddleWalDumpExitsOneAndStopsBeforeTheDamage) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun r = Cli({"wal", "dump", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  ASSERT_EQ(j["records"].size(), 3u) << r;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j["records"][i]["seq"].u64(), ids_[i]);
    EXPECT_EQ(j["records"][i]["offset"].u64(), dump_before_["records"][i]["offset"].u64());
    EXPECT_TRUE(j["records"][i]["checksum_ok"].boolean());
  }
  const Json& t = j["tail"];
  EXPECT_EQ(t["state"].str(), "corrupt");
  EXPECT_EQ(t["file"].str(), fs::relative(segment_, Dir()).string());
  EXPECT_EQ(t["offset"].u64(), valid_end_);
  EXPECT_EQ(t["last_seq"].u64(), ids_[2]);
  EXPECT_NE(t["detail"].str().find(segment_), std::string::npos) << t["detail"].str();
  const CliRun text = Cli({"wal", "dump", Dir()});
  EXPECT_EQ(text.code, 1) << text;
  EXPECT_NE(text.out.find("tail: corrupt"), std::string::npos) << text;
}

TEST_F(CliTest, CorruptMiddleVerifyExitsOneNamingTheFileAndOffset) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun r = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_FALSE(j["ok"].boolean());
  EXPECT_EQ(j["problem_count"].u64(), 1u) << r;
  ASSERT_EQ(j["problems"].size(), 1u) << r;
  const std::string& p = j["problems"][0].str();
  EXPECT_TRUE(p.starts_with("WAL: ")) << p;
  EXPECT_NE(p.find(segment_), std::string::npos) << p;
  EXPECT_NE(p.find(std::to_string(valid_end_)), std::string::npos) << p;
  EXPECT_EQ(j["tail"].str(), "corrupt");
  EXPECT_EQ(j["last_seq"].u64(), ids_[2]);
  const CliRun text = Cli({"verify", Dir()});
  EXPECT_EQ(text.code, 1) << text;
  EXPECT_NE(text.out.find("PROBLEM WAL: "), std::string::npos) << text;
  EXPECT_NE(text.out.find("verify: 1 problems"), std::string::npos) << text;
}

TEST_F(CliTest, CorruptMiddleInspectExitsOneAndShowsTheError) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j["last_seq"].u64(), ids_[2]);
  EXPECT_EQ(j["wal"]["tail"].str(), "corrupt");
  EXPECT_EQ(j["wal"]["tail_offset"].u64(), valid_end_);
  EXPECT_EQ(j["wal"]["records_after_checkpoint"].u64(), 3u);
  EXPECT_NE(j["wal"]["error"].str().find(segment_), std::string::npos) << r;
}

TEST_F(CliTest, CorruptMiddleGetAndScanShowTheStateBeforeTheDamage) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const Json g = ParseJson(Cli({"get", Dir(), TxnKey(2), "--json"}));
  EXPECT_EQ(g["value"].str(), TxnValue(2));
  EXPECT_EQ(g["update_id"].u64(), ids_[2]);
  EXPECT_EQ(Cli({"get", Dir(), TxnKey(5)}).code, 1) << "after the damage";
  const Json j = ParseJson(Cli({"scan", Dir(), "--json"}));
  State seen;
  for (const Json& e : j["entries"].array()) {
    seen[e["key"].str()] = {e["value"].str(), e["update_id"].u64()};
  }
  EXPECT_EQ(seen, StateAfter(ids_, 3));
}

TEST_F(CliTest, CorruptMiddleCompactAndPutCannotRunAndTheCacheRefusesToOpen) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  std::string error;
  EXPECT_FALSE(OpenAndReadAll(Dir(), &error).has_value()) << "recovery refuses a corrupt WAL";
  const CliRun c = Cli({"compact", Dir()});
  EXPECT_EQ(c.code, 2) << c;
  EXPECT_TRUE(OneLineNaming(c, segment_));
  const CliRun p = Cli({"put", Dir(), "x", "y"});
  EXPECT_EQ(p.code, 2) << p;
  EXPECT_TRUE(OneLineNaming(p, segment_));
}

TEST_F(CliTest, CorruptMiddleRepairWithYesCutsAtTheDamageAndKeepsEveryEarlierRecord) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const std::string segment_bytes = test::ReadFile(segment_);
  const Json dump = WalDump();  // what is readable: the records before the damage
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find(" tail=corrupt "), std::string::npos) << r;
  const uint64_t ok_up_to = Field(r.out, "ok_up_to");
  EXPECT_EQ(ok_up_to, ids_[2]) << r;
  EXPECT_NE(r.out.find("damage: "), std::string::npos) << r;
  EXPECT_NE(r.out.find("repaired"), std::string::npos) << r;
  // What follows the damage is kept aside (whether whole: see the test after this one).
  const std::string saved = segment_ + ".cut-" + std::to_string(valid_end_);
  ASSERT_TRUE(fs::exists(saved)) << r;
  const std::string kept = test::ReadFile(saved);
  EXPECT_GT(kept.size(), 0u);
  EXPECT_EQ(kept, segment_bytes.substr(valid_end_, kept.size()));
  EXPECT_NE(r.out.find(saved), std::string::npos) << r;
  EXPECT_EQ(test::FileSize(segment_), valid_end_);
  // Every record before the cut survives, with its values and updateIds; nothing after it does.
  const State expected = StateFromDump(dump, ids_, ok_up_to);
  EXPECT_EQ(expected, StateAfter(ids_, 3));
  std::string error;
  const std::optional<State> state = OpenAndReadAll(Dir(), &error);
  ASSERT_TRUE(state.has_value()) << error;
  EXPECT_EQ(*state, expected);
  const CliRun v = Cli({"verify", Dir()});
  EXPECT_EQ(v.code, 0) << v;
}

// The records after the damage were acknowledged: the copy kept aside must hold every byte of
// them, the last one included, even though a record's payload usually ends in zero bytes
// (expires_at 0, no related keys) that look like the segment's preallocation.
TEST_F(CliTest, CorruptMiddleRepairKeepsTheLastRecordAfterTheDamageWhole) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const std::string segment_bytes = test::ReadFile(segment_);
  ASSERT_EQ(segment_bytes.substr(data_end_ - 2, 2), std::string(2, '\0'))
      << "the fixture's last record ends in zero bytes";
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  const std::string saved = segment_ + ".cut-" + std::to_string(valid_end_);
  ASSERT_TRUE(fs::exists(saved)) << r;
  EXPECT_EQ(test::FileSize(saved), data_end_ - valid_end_)
      << "the last record after the damage ends at " << data_end_ << "\n"
      << r;
  EXPECT_EQ(test::ReadFile(saved), segment_bytes.substr(valid_end_, data_end_ - valid_end_));
}

// `repair` announces dropped=N before it asks: N should be the bytes of the records it cuts off
// (the damaged one and the valid ones after it), not the segment's preallocated zeros.
TEST_F(CliTest, CorruptMiddleRepairAnnouncesAsDroppedTheRecordBytesNotThePreallocation) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun no = Cli({"repair", Dir()}, "n\n");
  EXPECT_EQ(no.code, 1) << no;
  EXPECT_EQ(Field(no.out, "dropped"), data_end_ - valid_end_)
      << "records from offset " << valid_end_ << " to " << data_end_ << " in a " << kSegmentSize
      << "-byte preallocated segment\n"
      << no;
}

// ---- Damage behind the engine's back: I1 and the dependents index ------------------------------

TEST_F(CliTest, VerifyExitsOneOnAnI1ViolationWrittenIntoRocksDb) {
  const auto ids = MakeClean(Dir());
  const uint64_t other = ids.at("user:1") + 100;
  TamperStore(Dir(), [&](engine::RocksStore::Checkpoint* cp) {
    cp->Put("user:1", Entry{.value = "mallory", .update_id = other});
  });
  const CliRun r = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_FALSE(j["ok"].boolean());
  EXPECT_EQ(j["problem_count"].u64(), 1u) << r;
  ASSERT_EQ(j["problems"].size(), 1u) << r;
  EXPECT_EQ(j["problems"][0].str(),
            "I1: 'profile:1' (update_id " + std::to_string(ids.at("profile:1")) +
                ") derives from 'user:1' at update_id " + std::to_string(ids.at("user:1")) +
                ", which is at " + std::to_string(other));
}

TEST_F(CliTest, RepairRebuildsAMissingDependentsEdge) {
  MakeClean(Dir());
  TamperStore(Dir(), [](engine::RocksStore::Checkpoint* cp) {
    cp->RemoveDependent("user:1", "profile:1");
  });
  const CliRun bad = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(bad.code, 1) << bad;
  const Json j = ParseJson(bad);
  EXPECT_EQ(j["problem_count"].u64(), 1u);
  ASSERT_EQ(j["problems"].size(), 1u) << bad;
  EXPECT_NE(j["problems"][0].str().find("missing edge 'user:1' -> 'profile:1'"), std::string::npos)
      << bad;
  EXPECT_EQ(j["index_edges"].u64(), 0u);

  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(Field(r.out, "index_missing"), 1u) << r;
  EXPECT_EQ(Field(r.out, "index_stale"), 0u) << r;
  EXPECT_NE(r.out.find("index: 1 edges added, 0 removed"), std::string::npos) << r;
  const CliRun good = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(good.code, 0) << good;
  EXPECT_EQ(ParseJson(good)["index_edges"].u64(), 1u);
  // And the engine now invalidates through it.
  ASSERT_EQ(Cli({"put", Dir(), "user:1", "alice2"}).code, 0);
  EXPECT_EQ(Cli({"get", Dir(), "profile:1"}).code, 1);
}

// ---- compact and expiry -------------------------------------------------------------------------

TEST_F(CliTest, CompactDropsExpiredEntries) {
  ASSERT_EQ(Cli({"put", Dir(), "keep", "k"}).code, 0);
  const CliRun put = Cli({"put", Dir(), "brief", "b", "--ttl", "1"});
  ASSERT_EQ(put.code, 0) << put;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  const CliRun gone = Cli({"get", Dir(), "brief"});
  EXPECT_EQ(gone.code, 1) << gone;
  EXPECT_NE(gone.err.find("expired"), std::string::npos) << gone;
  const Json gj = ParseJson(Cli({"get", Dir(), "brief", "--json"}));
  EXPECT_FALSE(gj["found"].boolean());
  EXPECT_TRUE(gj["expired"].boolean());
  EXPECT_EQ(ParseJson(Cli({"scan", Dir(), "--json"}))["count"].u64(), 1u);
  const Json before = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(before["keys"]["live"].u64(), 1u);
  EXPECT_EQ(before["keys"]["expired"].u64(), 1u);

  const CliRun c = Cli({"compact", Dir(), "--json"});
  ASSERT_EQ(c.code, 0) << c;
  const Json cj = ParseJson(c);
  for (const char* f :
       {"rocksdb_bytes_before", "rocksdb_bytes_after", "wal_bytes_before", "wal_bytes_after"}) {
    EXPECT_EQ(cj[f].type(), Json::Type::kNumber) << f;
  }
  const Json after = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(after["keys"]["live"].u64(), 1u);
  EXPECT_EQ(after["keys"]["expired"].u64(), 0u) << "the compaction filter dropped it";
  EXPECT_EQ(Cli({"get", Dir(), "keep"}).code, 0);
}

// ---- Held open by a live process ----------------------------------------------------------------

TEST_F(CliTest, HeldInspectShowsTheHolderAndChangesNothing) {
  const auto ids = MakeClean(Dir());
  HeldOpen holder(Dir());
  const auto before = Snapshot(Dir());
  const CliRun r = Cli({"inspect", Dir(), "--exact", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_TRUE(j["held"].boolean());
  EXPECT_EQ(j["holder"].str(), "pid " + std::to_string(holder.pid()));
  EXPECT_EQ(j["last_seq"].u64(), ids.at("profile:1"));
  EXPECT_EQ(j["keys"]["live"].u64(), 5u);
  const CliRun text = Cli({"inspect", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("(open: pid " + std::to_string(holder.pid()) + ")"), std::string::npos)
      << text;
  EXPECT_EQ(Snapshot(Dir()), before);
}

TEST_F(CliTest, HeldReadOnlyCommandsRunAndChangeNothing) {
  const auto ids = MakeClean(Dir());
  HeldOpen holder(Dir());
  const auto before = Snapshot(Dir());
  const Json g = ParseJson(Cli({"get", Dir(), "user:2", "--json"}));
  EXPECT_EQ(g["update_id"].u64(), ids.at("user:2"));
  EXPECT_EQ(ParseJson(Cli({"scan", Dir(), "--json"}))["count"].u64(), 5u);
  const CliRun d = Cli({"wal", "dump", Dir(), "--json"});
  EXPECT_EQ(d.code, 0) << d;
  const CliRun v = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(v.code, 0) << v;
  EXPECT_TRUE(ParseJson(v)["ok"].boolean());
  EXPECT_EQ(Snapshot(Dir()), before);
}

TEST_F(CliTest, HeldRepairCompactPutAndDelRefuseAndChangeNothing) {
  MakeClean(Dir());
  // Something for repair to do, were the directory free.
  TamperStore(Dir(), [](engine::RocksStore::Checkpoint* cp) {
    cp->RemoveDependent("user:1", "profile:1");
  });
  HeldOpen holder(Dir());
  const auto before = Snapshot(Dir());
  const std::string pid = "pid " + std::to_string(holder.pid());
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"repair", Dir(), "--yes"},
                                             {"compact", Dir()},
                                             {"put", Dir(), "user:9", "x"},
                                             {"del", Dir(), "user:2"}}) {
    const CliRun r = Cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, Dir())) << cmd[0];
    EXPECT_NE(r.err.find(pid), std::string::npos) << cmd[0] << " names the holder: " << r;
    EXPECT_EQ(r.out.find("repaired"), std::string::npos) << r;
    EXPECT_EQ(Snapshot(Dir()), before) << cmd[0];
  }
}

// ---- Empty, foreign, missing, unreadable --------------------------------------------------------

TEST_F(CliTest, EmptyCacheEveryCommandRuns) {
  MakeEmpty(Dir());
  const Json i = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(i["checkpoint_seq"].u64(), 0u);
  EXPECT_EQ(i["last_seq"].u64(), 0u);
  EXPECT_EQ(i["wal"]["tail"].str(), "clean");
  EXPECT_EQ(i["wal"]["records_after_checkpoint"].u64(), 0u);
  EXPECT_EQ(i["keys"]["live"].u64(), 0u);
  EXPECT_EQ(i["dependents"].u64(), 0u);
  EXPECT_EQ(Cli({"get", Dir(), "anything"}).code, 1);
  const Json s = ParseJson(Cli({"scan", Dir(), "--json"}));
  EXPECT_EQ(s["count"].u64(), 0u);
  EXPECT_FALSE(s["truncated"].boolean());
  const CliRun d = Cli({"wal", "dump", Dir(), "--json"});
  EXPECT_EQ(d.code, 0) << d;
  EXPECT_EQ(ParseJson(d)["records"].size(), 0u);
  EXPECT_EQ(ParseJson(d)["tail"]["state"].str(), "clean");
  const CliRun v = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(v.code, 0) << v;
  EXPECT_EQ(ParseJson(v)["entries"].u64(), 0u);
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("nothing to repair"), std::string::npos) << r;
  const CliRun c = Cli({"compact", Dir(), "--json"});
  EXPECT_EQ(c.code, 0) << c;
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0);
}

TEST_F(CliTest, NotAWalcacheDirectoryExitsTwoAndCreatesNothing) {
  const std::string plain = Abs("plain"), other = Abs("other");
  fs::create_directories(plain);
  fs::create_directories(other + "/wal");
  test::WriteFile(other + "/notes.txt", "not a cache\n");
  test::WriteFile(other + "/wal/000001.wal", "nor is this\n");
  for (const std::string& dir : {plain, other}) {
    const auto before = Snapshot(dir);
    std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
    cmds.push_back({"repair", "", "--yes"});
    cmds.push_back({"compact"});
    cmds.push_back({"del", "", "user:1"});
    for (const std::vector<std::string>& cmd : cmds) {
      const CliRun r = Cli(WithDir(cmd, dir));
      EXPECT_EQ(r.code, 2) << cmd[0] << " " << dir << ": " << r;
      EXPECT_TRUE(OneLineNaming(r, dir)) << cmd[0];
      EXPECT_NE(r.err.find("not a walcache directory"), std::string::npos) << r;
      EXPECT_TRUE(r.out.empty()) << r;
      EXPECT_EQ(Snapshot(dir), before) << cmd[0] << " changed " << dir;
    }
  }
}

TEST_F(CliTest, MissingDirectoryExitsTwoAndIsNotCreated) {
  const std::string missing = Abs("none");
  std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
  cmds.push_back({"repair", "", "--yes"});
  cmds.push_back({"compact"});
  cmds.push_back({"del", "", "user:1"});
  for (const std::vector<std::string>& cmd : cmds) {
    const CliRun r = Cli(WithDir(cmd, missing));
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, missing)) << cmd[0];
    EXPECT_FALSE(fs::exists(missing)) << cmd[0] << " created it";
  }
  const CliRun put = Cli({"put", missing, "k", "v"});
  EXPECT_EQ(put.code, 0) << put;
  EXPECT_TRUE(fs::is_directory(missing + "/rocksdb"));
}

TEST_F(CliTest, UnreadableDirectoryExitsTwoNamingThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any directory, chmod 000 or not";
  MakeClean(Dir());
  const std::string dir = Dir();
  ASSERT_EQ(::chmod(dir.c_str(), 0), 0);
  std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
  cmds.push_back({"repair", "", "--yes"});
  cmds.push_back({"compact"});
  cmds.push_back({"put", "", "k", "v"});
  cmds.push_back({"del", "", "user:1"});
  for (const std::vector<std::string>& cmd : cmds) {
    const CliRun r = Cli(WithDir(cmd, dir));
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, dir)) << cmd[0];
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_EQ(Cli({"verify", dir}).code, 0) << "nothing was damaged";
}

// Without permission to read DIR, the commands cannot tell what it holds: they must say so, not
// call it "not a walcache directory" (DbView::Open takes any failure to stat DIR/rocksdb for
// "it has none"). As root the commands run as nobody, for whom chmod 000 counts.
TEST_F(CliTest, UnreadableWalcacheDirectoryIsNotCalledForeign) {
  MakeClean(Dir());
  std::optional<std::pair<uid_t, gid_t>> as;
  if (::geteuid() == 0) as = std::make_pair(uid_t{65534}, gid_t{65534});
  const CliRun probe = Cli({"verify", Dir()}, "", as);
  if (probe.code == kCannotDropPrivileges) GTEST_SKIP() << "cannot run the CLI as nobody";
  ASSERT_EQ(::chmod(Dir().c_str(), 0), 0);
  std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
  cmds.push_back({"repair", "", "--yes"});
  cmds.push_back({"compact"});
  cmds.push_back({"del", "", "user:1"});
  for (const std::vector<std::string>& cmd : cmds) {
    const CliRun r = Cli(WithDir(cmd, Dir()), "", as);
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, Dir())) << cmd[0];
    EXPECT_EQ(r.err.find("not a walcache directory"), std::string::npos)
        << cmd[0] << " misreports a permission problem: " << r;
  }
  ASSERT_EQ(::chmod(Dir().c_str(), 0700), 0);
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0) << "nothing was damaged";
}

// An I/O error's one line must say why the call failed (the errno's text), not only which call:
// CannotRun (tools/admin_util.cc) prints Status::message(), which leaves the errno out.
TEST_F(CliTest, IoErrorsOnStderrSayWhyTheCallFailed) {
  const std::string dir = Abs("no-such-parent/cache");
  const CliRun r = Cli({"put", dir, "k", "v"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_TRUE(OneLineNaming(r, dir));
  EXPECT_NE(r.err.find(std::strerror(ENOENT)), std::string::npos) << "no reason given: " << r;
  EXPECT_FALSE(fs::exists(Abs("no-such-parent")));
}

}  // namespace
}  // namespace walcache
