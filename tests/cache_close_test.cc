// engine: Cache::Close (issue 16 item 4) — it returns the final checkpoint's or the WAL's error
// that the destructor used to drop, closing twice returns the same status, every method fails
// cleanly after it, Transactions and KeyLocks that outlive it behave as after destruction, and the
// directory is free for another open at once; and Options::log, which receives the messages the
// library used to write to stderr (a failing background checkpoint, a close that failed in a
// destructor).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/seams.h"
#include "tests/failing_rocks_fs.h"
#include "tests/fault_file_system.h"
#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

using std::chrono::milliseconds;

// Collects what the library logs, from any thread.
class LogSink {
 public:
  LogFunction hook() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard<std::mutex> l(mu_);
      lines_.emplace_back(level, std::string(message));
    };
  }
  std::vector<std::pair<LogLevel, std::string>> lines() const {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }
  // The number of lines at `level` that contain `part`.
  size_t Count(LogLevel level, std::string_view part) const {
    size_t n = 0;
    for (const auto& [lv, text] : lines()) n += lv == level && text.find(part) != text.npos;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

// No background checkpoints: the tests decide when one runs.
Options Quiet() {
  Options o;
  o.checkpoint_interval = milliseconds(0);
  o.checkpoint_dirty_bytes = 0;
  o.checkpoint_wal_bytes = 0;
  return o;
}

TEST(CacheCloseTest, AfterCloseEveryMethodFailsCleanlyAndTheDirectoryIsFree) {
  test::ScratchDir dir;
  auto opened = Cache::Open(dir.path(), Quiet());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Cache& c = **opened;
  const uint64_t u = *c.Put("k", "v");
  Transaction outliving = c.Begin();
  outliving.Put("later", "x");
  KeyLock held = c.Lock("locked");
  ASSERT_TRUE(held.held());

  const Status closed = c.Close();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_TRUE(c.Close().ok()) << "a second Close returns the first one's status";

  EXPECT_TRUE(c.Get("k").status().IsAborted()) << c.Get("k").status().ToString();
  EXPECT_TRUE(c.Put("k", "w").status().IsAborted());
  EXPECT_TRUE(c.Delete("k").status().IsAborted());
  EXPECT_TRUE(c.Touch("k", 10).status().IsAborted());
  EXPECT_TRUE(c.Scan("", [](std::string_view, const Entry&) { return true; }).IsAborted());
  EXPECT_TRUE(c.Checkpoint().IsAborted());
  EXPECT_TRUE(c.Compact().IsAborted());
  EXPECT_TRUE(c.health().IsAborted());
  Transaction fresh = c.Begin();
  fresh.Put("k", "w");
  EXPECT_TRUE(fresh.Commit().status().IsAborted());
  EXPECT_TRUE(outliving.Commit().status().IsAborted()) << "as after destruction";
  EXPECT_FALSE(held.held()) << "the lock ended with the Cache";
  EXPECT_TRUE(held.Unlock().IsAborted());
  KeyLock after = c.Lock("locked");  // does not block: nothing is locked any more
  EXPECT_FALSE(after.held());
  // The counters as they were at the close, the close's checkpoint included.
  const CacheStats st = c.Stats();
  EXPECT_EQ(st.commits, 1u);
  EXPECT_EQ(st.last_seq, u);
  EXPECT_EQ(st.checkpoint_seq, u) << "Close checkpointed";
  EXPECT_EQ(st.checkpoints, 1u);
  EXPECT_EQ(st.checkpoint_ns.count, 1u);
  EXPECT_NE(c.MetricsText().find("walcache_commits_total 1\n"), std::string::npos);
  EXPECT_EQ(c.LastRecovery().last_seq, 0u) << "the open's recovery, unchanged";

  // The directory was released at Close, while the closed Cache object still exists.
  auto again = Cache::Open(dir.path(), Quiet());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->Get("k")->update_id, u);
  EXPECT_EQ((*again)->LastRecovery().records_replayed, 0u) << "nothing left to replay";
  EXPECT_TRUE((*again)->Lock("locked").held()) << "a new cache, a new lock";
}

// The final checkpoint's RocksDB write fails: Close says so (the destructor used to drop it),
// says it again when called twice, and the WAL still holds every commit for the next open.
TEST(CacheCloseTest, CloseReturnsTheFailureOfTheFinalCheckpoint) {
  auto rocks = std::make_shared<FailingRocksFs>(rocksdb::FileSystem::Default());
  test::ScratchDir dir;
  LogSink log;
  Options o = Quiet();
  o.log = log.hook();
  uint64_t last = 0;
  {
    auto c = engine::CacheOpener::Open(dir.path(), o, engine::Seams{nullptr, rocks});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (int i = 0; i < 20; ++i) last = *(*c)->Put("k" + std::to_string(i), "v");
    rocks->armed = true;
    const Status s = (*c)->Close();
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_NE(s.ToString().find("injected EIO in RocksDB"), std::string::npos) << s.ToString();
    EXPECT_GT(rocks->injected.load(), 0u);
    const Status twice = (*c)->Close();
    EXPECT_EQ(twice.ToString(), s.ToString()) << "the same status again";
    EXPECT_EQ((*c)->Stats().checkpoint_failures, 1u);
    EXPECT_EQ((*c)->Stats().checkpoint_seq, 0u);
    rocks->armed = false;
  }
  EXPECT_EQ(log.Count(LogLevel::kError, "close failed"), 0u)
      << "Close returned the error; the destructor has nothing more to say";
  auto c = Cache::Open(dir.path(), Quiet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->LastRecovery().records_replayed, 20u) << "the WAL kept what RocksDB did not";
  EXPECT_EQ((*c)->Stats().last_seq, last);
  EXPECT_TRUE((*c)->Close().ok());
}

// The WAL's own failure (its fdatasync, through the fault layer): the checkpoint cannot make its
// state durable, and Close returns that error rather than OK.
TEST(CacheCloseTest, CloseReturnsTheWalFailure) {
  test::ScratchDir dir;
  FaultFileSystem faults(FileSystem::Posix());
  Options o = Quiet();
  o.durability = Durability::kBuffered;
  o.sync_interval = milliseconds(0);  // nothing syncs the buffered records but the close
  auto c = engine::CacheOpener::Open(dir.path(), o, engine::Seams{&faults, nullptr});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Put("k", "v").ok());
  faults.AddRule(FaultRule{.op = FaultOp::kSync, .path_contains = "/wal/"});
  const Status s = (*c)->Close();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_GT(faults.Injected(FaultOp::kSync), 0u);
  EXPECT_EQ((*c)->Close().ToString(), s.ToString());
}

// A destructor cannot return the close's error: it goes to the log hook, and a failing
// background checkpoint is logged there too, at kError, naming the directory.
TEST(CacheCloseTest, TheHookReceivesBackgroundAndDestructorFailures) {
  auto rocks = std::make_shared<FailingRocksFs>(rocksdb::FileSystem::Default());
  test::ScratchDir dir;
  LogSink log;
  Options o;
  o.log = log.hook();
  o.checkpoint_interval = milliseconds(20);  // background checkpoints, soon
  o.checkpoint_dirty_bytes = 0;
  o.checkpoint_wal_bytes = 0;
  {
    auto c = engine::CacheOpener::Open(dir.path(), o, engine::Seams{nullptr, rocks});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    rocks->armed = true;
    ASSERT_TRUE((*c)->Put("k", "v").ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (log.Count(LogLevel::kError, "background checkpoint failed") == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    EXPECT_EQ(log.Count(LogLevel::kError, "background checkpoint failed"), 1u);
    EXPECT_EQ(log.Count(LogLevel::kError, dir.path() + ": "), 1u) << "names the directory";
    EXPECT_GE((*c)->Stats().checkpoint_failures, 1u);
  }  // destroyed without Close, while checkpoints fail
  rocks->armed = false;
  EXPECT_EQ(log.Count(LogLevel::kError, "close failed"), 1u);
  // The close's error may be the injected one or, if a later background attempt had to reopen
  // RocksDB and could not, the closed store's: either way it is reported, not dropped.
  EXPECT_GE(log.Count(LogLevel::kError, "injected EIO in RocksDB"), 1u);
  for (const auto& [level, text] : log.lines()) {
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text.back(), '\n') << "one message, no trailing newline: " << text;
  }
}

// A clean destruction logs nothing; and without a hook, nothing reaches it (stderr instead).
TEST(CacheCloseTest, ACleanCloseLogsNothing) {
  test::ScratchDir dir;
  LogSink log;
  Options o = Quiet();
  o.log = log.hook();
  {
    auto c = Cache::Open(dir.path(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Put("k", "v").ok());
  }
  EXPECT_TRUE(log.lines().empty()) << log.lines().front().second;
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "warning");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
}

}  // namespace
}  // namespace walcache
