// Shared pieces of the end-to-end tests of the `walcache` admin CLI (tests/cli_*_test.cc): running
// the real binary with fork/exec and its stdout, stderr and exit code captured; the directory as
// files; caches made by the library in forked children (clean, crashed after N commits, held
// open). The CliTest fixture built on them: tests/cli_fixture.h.
//
// The library (walcache::Cache, engine::RocksStore) is used only in forked children, never in
// the test process: RocksDB starts background threads that a later fork would not inherit, so a
// child forked after the parent used RocksDB could wait forever for them.
//
// Thread-safety: not thread-safe; one test at a time.
#ifndef WALCACHE_TESTS_CLI_TEST_UTIL_H_
#define WALCACHE_TESTS_CLI_TEST_UTIL_H_

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
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

namespace walcache::cli_test {

namespace fs = std::filesystem;
using test::Json;
using test::ScratchDir;

constexpr uint64_t kSegmentSize = 256 << 10;  // WAL segments of the caches the tests make
constexpr uint64_t kSegmentHeaderSize = 36;   // docs/wal-format.md
constexpr uint64_t kRecordHeaderSize = 26;

// ---- Running the CLI ----------------------------------------------------------------------------

// Reads each fd into its string until every one reaches EOF (true) or `timeout` passes (false),
// then closes them all.
inline bool DrainUntil(std::vector<std::pair<int, std::string*>> sinks,
                       std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  for (const auto& s : sinks) fds.push_back({s.first, POLLIN, 0});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t open_fds = fds.size();
  bool finished = true;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      finished = false;
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i].second->append(buf, static_cast<size_t>(n));
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
  return finished;
}

struct CliRun {
  int code = -1;  // the exit status; 128 + N if killed by signal N
  std::string out, err;
};

inline std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

constexpr int kCannotDropPrivileges = 126;
// The child could not execute the binary (e.g. as another user, from a checkout inside a
// directory only its owner may enter, such as /root). walcache itself never exits 125.
constexpr int kCannotExec = 125;

// Runs `walcache ARGS...` with `input` on its stdin (then EOF); as user and group `as` if given
// (exit kCannotDropPrivileges if that fails). With `terminal`, stderr is a pseudo-terminal (what
// it showed lands in `err`) and the progress line's delay is 0 (tools/progress.h).
inline CliRun Cli(const std::vector<std::string>& args, const std::string& input = "",
                  std::optional<std::pair<uid_t, gid_t>> as = std::nullopt, bool terminal = false) {
  static const bool ignore_sigpipe = (::signal(SIGPIPE, SIG_IGN), true);
  (void)ignore_sigpipe;
  CliRun r;
  int in[2], out[2], err[2];
  const bool piped = ::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0 &&
                     (terminal ? ::openpty(&err[0], &err[1], nullptr, nullptr, nullptr) == 0
                               : ::pipe2(err, O_CLOEXEC) == 0);
  if (!piped) {
    ADD_FAILURE() << "pipe2/openpty: " << std::strerror(errno);
    return r;
  }
  if (terminal) {  // openpty's descriptors are inherited by exec unless told otherwise
    ::fcntl(err[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(err[1], F_SETFD, FD_CLOEXEC);
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
    if (terminal) ::setenv("WALCACHE_PROGRESS_AFTER_MS", "0", 1);
    if (as.has_value() &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(as->second, as->second, as->second) != 0 ||
         ::setresuid(as->first, as->first, as->first) != 0)) {
      ::_exit(kCannotDropPrivileges);
    }
    ::execv(argv[0], argv.data());
    ::_exit(kCannotExec);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  if (!DrainUntil({{out[0], &r.out}, {err[0], &r.err}}, std::chrono::seconds(60))) {
    ADD_FAILURE() << "walcache did not finish in 60 s; killed";
    ::kill(pid, SIGKILL);
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
inline Json ParseJson(const CliRun& r) {
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
inline uint64_t Field(const std::string& text, const std::string& name) {
  const size_t at = text.find(" " + name + "=");
  if (at == std::string::npos) return UINT64_MAX;
  const size_t start = at + name.size() + 2;
  const size_t end = text.find_first_not_of("0123456789", start);
  if (end == start) return UINT64_MAX;
  return std::stoull(text.substr(start, end - start));
}

// Why the CLI cannot be run as `as` (empty: it can): dropping privileges failed, or that identity
// may not execute the binary. Tests that change identity skip with this reason.
inline std::string CannotRunAs(std::optional<std::pair<uid_t, gid_t>> as) {
  if (!as.has_value()) return "";
  const CliRun r = Cli({"--version"}, "", as);
  if (r.code == kCannotDropPrivileges) {
    return "cannot switch to uid " + std::to_string(as->first) + " (not root?)";
  }
  if (r.code == kCannotExec) {
    return "uid " + std::to_string(as->first) + " cannot execute " + std::string(WALCACHE_CLI) +
           " (is the checkout inside a directory other users cannot enter, such as /root?)";
  }
  return "";
}

// ---- The directory as files ---------------------------------------------------------------------

inline bool IsRocksDbInfoLog(const fs::path& p) { return p.filename().string().starts_with("LOG"); }

// Relative path -> "mode size hash" of every file under `dir` ("mode dir" for directories, "mode
// unreadable" for a file this process cannot read), so that a change to any byte, permission or
// name shows. RocksDB's info logs are left out unless `with_info_logs` (RocksDB may append to them
// at any time while a process holds the directory); LOCK too unless `with_lock`.
inline std::map<std::string, std::string> Snapshot(const std::string& dir, bool with_lock = true,
                                                   bool with_info_logs = false) {
  std::map<std::string, std::string> snap;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir).string();
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) {
      snap[rel] = "vanished";
      continue;
    }
    std::ostringstream mode;
    mode << std::oct << st.st_mode << " ";
    if (S_ISDIR(st.st_mode)) {
      snap[rel] = mode.str() + "dir";
    } else if ((with_info_logs || !IsRocksDbInfoLog(it->path())) && (with_lock || rel != "LOCK")) {
      std::ifstream in(it->path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      if (!in.is_open() || in.bad()) {
        snap[rel] = mode.str() + "unreadable";
        continue;
      }
      snap[rel] = mode.str() + std::to_string(bytes.size()) + " " +
                  std::to_string(std::hash<std::string_view>()(bytes));
    }
  }
  if (ec) ADD_FAILURE() << "cannot list " << dir << ": " << ec.message();
  return snap;
}

// Bytes of the regular files under `path`, RocksDB's info logs excepted (as `compact` counts).
inline uint64_t TreeBytes(const std::string& path) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    if (e.is_regular_file() && !IsRocksDbInfoLog(e.path())) n += e.file_size();
  }
  return n;
}

inline std::vector<std::string> WalFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir + "/wal")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---- The library, in forked children -----------------------------------------------------------

inline Options TestOptions() {
  Options o;
  o.wal_segment_size = kSegmentSize;
  // No background checkpoint: what a test writes stays in the WAL until a close or a Compact.
  o.checkpoint_wal_bytes = 0;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  return o;
}

struct ChildRun {
  std::string text;  // what `body` returned, as far as the child wrote it
  int status = -1;   // from waitpid
  bool timed_out = false;
};

// Runs `body` in a forked child and returns the text it returned; the child then _exits, so
// nothing it opened is closed unless `body` closed it. A child still running after `timeout` is
// killed (SIGKILL) and reported as timed out.
inline ChildRun RunChild(const std::function<std::string()>& body,
                         std::chrono::milliseconds timeout) {
  ChildRun r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return r;
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
  if (!DrainUntil({{fds[0], &r.text}}, timeout)) {
    r.timed_out = true;
    ::kill(pid, SIGKILL);
  }
  EXPECT_EQ(::waitpid(pid, &r.status, 0), pid);
  return r;
}

// RunChild for a child that must succeed: "ERROR ..." from `body`, a death or a hang fails the
// test.
inline std::string InChild(const std::function<std::string()>& body) {
  const ChildRun r = RunChild(body, std::chrono::minutes(10));
  EXPECT_FALSE(r.timed_out) << "the child hung";
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "child status " << r.status;
  EXPECT_FALSE(r.text.starts_with("ERROR")) << r.text;
  return r.text;
}

// The clean fixture: five entries, profile:1 derived from user:1; the cache closed (checkpointed).
// Returns key -> update_id.
inline std::map<std::string, uint64_t> MakeClean(const std::string& dir) {
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
inline void MakeEmpty(const std::string& dir) {
  InChild([&]() -> std::string {
    auto c = Cache::Open(dir, TestOptions());
    return c.ok() ? "" : "ERROR " + c.status().ToString();
  });
}

// Transaction i of the crash fixture writes k<i> = v<i> and shared:<i % 3> = s<i>.
inline std::string TxnKey(size_t i) { return (i < 10 ? "k0" : "k") + std::to_string(i); }
inline std::string TxnValue(size_t i) { return "v" + std::to_string(i); }
inline std::string SharedKey(size_t i) { return "shared:" + std::to_string(i % 3); }
inline std::string SharedValue(size_t i) { return "s" + std::to_string(i); }

// A process opens a cache, commits `n` transactions (sync durability, so each is durable when
// acknowledged) and dies without closing: every record stays in the WAL after checkpoint_seq 0.
// Returns the acknowledged updateId of each transaction.
inline std::vector<uint64_t> CrashAfterCommits(const std::string& dir, size_t n) {
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
  std::string related;  // "source@update_id" for each related key, comma-separated
  friend bool operator==(const Item&, const Item&) = default;
};
using State = std::map<std::string, Item>;

inline std::ostream& operator<<(std::ostream& os, const Item& i) {
  os << "{" << i.value << " @" << i.update_id;
  if (!i.related.empty()) os << " from " << i.related;
  return os << "}";
}

// Every live entry of `c` as text for ParseState, one "key\tvalue\tupdate_id\trelated" line
// each (for keys and values without tabs or newlines). "ERROR ..." if the scan fails.
inline std::string DumpAll(Cache* c) {
  std::string out;
  Status s = c->Scan("", [&](std::string_view k, const Entry& e) {
    std::string related;
    for (const RelatedKey& r : e.related) {
      related += (related.empty() ? "" : ",") + r.key + "@" + std::to_string(r.update_id);
    }
    out += std::string(k) + "\t" + e.value + "\t" + std::to_string(e.update_id) + "\t" + related +
           "\n";
    return true;
  });
  return s.ok() ? out : "ERROR " + s.ToString();
}

inline State ParseState(const std::string& text) {
  State state;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find('\t'), b = line.find('\t', a + 1), c = line.find('\t', b + 1);
    state[line.substr(0, a)] = Item{line.substr(a + 1, b - a - 1),
                                    std::stoull(line.substr(b + 1, c - b - 1)), line.substr(c + 1)};
  }
  return state;
}

// Opens the cache through the library (recovery and all), reads every live entry, closes it.
// nullopt if the open fails (*error says why).
inline std::optional<State> OpenAndReadAll(const std::string& dir, std::string* error) {
  const std::string text = InChild([&]() -> std::string {
    auto c = Cache::Open(dir, TestOptions());
    if (!c.ok()) return "OPEN FAILED " + c.status().ToString();
    return DumpAll(c->get());
  });
  if (text.starts_with("OPEN FAILED")) {
    *error = text;
    return std::nullopt;
  }
  return ParseState(text);
}

// Applies `edit` to DIR/rocksdb directly, at its own checkpoint_seq (the cache must be closed).
inline void TamperStore(const std::string& dir,
                        const std::function<void(engine::RocksStore::Checkpoint*)>& edit) {
  InChild([&]() -> std::string {
    engine::StoreOptions so;
    so.create_if_missing = false;
    auto store = engine::RocksStore::Open(dir + "/rocksdb", so);
    if (!store.ok()) return "ERROR " + store.status().ToString();
    engine::RocksStore::Checkpoint cp;
    edit(&cp);
    const Status s =
        (*store)->Apply(std::move(cp), (*store)->checkpoint_seq(), (*store)->expiry_horizon());
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

}  // namespace walcache::cli_test

#endif  // WALCACHE_TESTS_CLI_TEST_UTIL_H_
