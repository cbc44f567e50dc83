// SPDX-License-Identifier: Apache-2.0
// Caches made by the library in forked children, for the CLI's end-to-end tests: clean, crashed
// after N commits, held open by a live process, their RocksDB edited directly; and their state
// read back through the library, as text (State).
//
// The library (walcache::Cache, engine::RocksStore) is used only in forked children, never in
// the test process: RocksDB starts background threads that a later fork would not inherit, so a
// child forked after the parent used RocksDB could wait forever for them.
//
// Thread-safety: not thread-safe; one test at a time.
#ifndef WALCACHE_TESTS_CACHE_IN_CHILD_H_
#define WALCACHE_TESTS_CACHE_IN_CHILD_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/rocks_store.h"
#include "tests/child_process.h"
#include "walcache/cache.h"

namespace walcache::cli_test {

constexpr uint64_t kSegmentSize = 256 << 10;  // WAL segments of the caches the tests make
constexpr uint64_t kSegmentHeaderSize = 36;   // docs/wal-format.md
constexpr uint64_t kRecordHeaderSize = 26;

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
  test::ChildExit exit;
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
  test::Child child([&] {
    ::close(fds[0]);
    const std::string text = body();
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) return 3;
      done += static_cast<size_t>(n);
    }
    return 0;
  });
  ::close(fds[1]);
  if (!test::DrainUntil({{fds[0], &r.text}}, timeout)) {
    r.timed_out = true;
    child.Kill(SIGKILL);
  }
  r.exit = child.Wait();
  return r;
}

// RunChild for a child that must succeed: "ERROR ..." from `body`, a death or a hang fails the
// test.
inline std::string InChild(const std::function<std::string()>& body) {
  const ChildRun r = RunChild(body, std::chrono::minutes(10));
  EXPECT_FALSE(r.timed_out) << "the child hung";
  EXPECT_TRUE(r.exit.ok()) << "the child: " << r.exit;
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
    child_ = std::make_unique<test::Child>([&]() -> int {
      ::close(ready[0]);
      ::close(go[1]);
      auto c = Cache::Open(dir, TestOptions());
      const char r = c.ok() ? 'R' : 'E';
      (void)!::write(ready[1], &r, 1);
      char byte;
      while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);  // dies (_exit) holding it: nothing is written on the way out
    });
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
    if (child_ == nullptr) return;
    ::close(go_);
    child_->Wait();
  }
  HeldOpen(const HeldOpen&) = delete;
  HeldOpen& operator=(const HeldOpen&) = delete;

  pid_t pid() const { return child_ != nullptr ? child_->pid() : -1; }

 private:
  std::unique_ptr<test::Child> child_;  // null: the pipes could not be made
  int go_ = -1;
};

}  // namespace walcache::cli_test

#endif  // WALCACHE_TESTS_CACHE_IN_CHILD_H_
