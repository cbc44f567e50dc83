// wal::Writer's group commit stays live: however sync committers on many threads interleave,
// every Append returns; no committer sleeps while no thread will fdatasync its record. The
// committers run in a child process with a watchdog, so a stuck commit path is a failure that
// says so, not a hang until CTest's timeout; and the planted bug gatherer-leaves-silently (a
// gatherer whose record another thread's fdatasync covered leaves without handing the sync role
// on) must be caught by the staged interleaving below (round 0 of 20 in each of 8 runs on a
// loaded machine; the free-running eight threads did not meet it in 30 s in the writer before).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/child_process.h"
#include "tests/test_util.h"
#include "util/file_system.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "wal/batch.h"
#include "wal/writer.h"

namespace walcache::wal {
namespace {

// Uneven fdatasyncs: every other one takes 4 ms longer, so group sizes and gatherers' waits (half
// the recent fdatasync average) vary, and groups led by one thread often write others' records.
std::atomic<uint64_t> syncs{0};
void UnevenSyncs(const char* point) {
  if (std::string_view(point) != KillPointName(KillPoint::kWalBeforeSync)) return;
  if (syncs.fetch_add(1) % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(4));
}

constexpr int kStuck = 3;  // the child's exit code when no Append returned for kStuckAfter
// Far above any fdatasync of a loaded CI machine; a stuck commit path never recovers.
constexpr auto kStuckAfter = std::chrono::seconds(15);

// In the child: `threads` committers append sync records for `length`, beside a watchdog that
// _exits with kStuck once no Append has returned for kStuckAfter. 0 when all of them finished.
int CommitFromManyThreads(const std::string& wal_dir, int threads,
                          std::chrono::milliseconds length) {
  WriterOptions o;
  o.segment_size = 4 << 20;
  o.sync_interval = std::chrono::milliseconds(0);
  o.max_group_wait = std::chrono::milliseconds(10);
  SetKillPointHandler(&UnevenSyncs);
  auto w = Writer::Open(FileSystem::Posix(), wal_dir, o, 1);
  if (!w.ok()) {
    std::fprintf(stderr, "open: %s\n", w.status().ToString().c_str());
    return 1;
  }
  Batch b;
  b.Put("k", std::string(32, 'v'));
  const std::string batch = b.Encode();
  std::atomic<uint64_t> returned{0};
  std::atomic<bool> failed{false};
  const auto end = std::chrono::steady_clock::now() + length;
  std::thread watchdog([&] {
    uint64_t last = 0;
    auto progress = std::chrono::steady_clock::now();
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const uint64_t n = returned.load();
      const auto now = std::chrono::steady_clock::now();
      if (n == UINT64_MAX) return;  // every committer finished
      if (n != last) {
        last = n;
        progress = now;
      } else if (now - progress > kStuckAfter) {
        std::fprintf(
            stderr, "no Append returned for %lld s after %llu did: the group commit is stuck\n",
            static_cast<long long>(kStuckAfter.count()), static_cast<unsigned long long>(n));
        _exit(kStuck);
      }
    }
  });
  std::vector<std::thread> committers;
  for (int t = 0; t < threads; ++t) {
    committers.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end) {
        if (!(*w)->Append(batch, Durability::kSync).ok()) failed = true;
        returned++;
      }
    });
  }
  for (std::thread& t : committers) t.join();
  returned = UINT64_MAX;
  watchdog.join();
  if (!(*w)->Close().ok()) failed = true;
  return failed ? 1 : 0;
}

TEST(WriterLivenessTest, SyncCommittersOnEightThreadsAllReturn) {
  test::ScratchDir dir;
  const test::ChildExit e = test::RunInChild(
      [&] { return CommitFromManyThreads(dir.Join("wal"), 8, std::chrono::milliseconds(3000)); });
  EXPECT_TRUE(e.ok()) << e << (e.code() == kStuck ? ": the group commit got stuck" : "");
}

// The interleaving the planted bug needs, staged: A writes its record and gathers a group; B
// fills it and fdatasyncs, covering A's record; while B is held after its fdatasync, C writes
// its record and sleeps (an fdatasync is in flight). B, done, finds A gathering and leaves the
// next fdatasync to it; but A's record is durable, so A leaves too, and must hand the sync role
// to C as it goes. (In the writer before the pipelined one, C could find A gathering after B's
// wake-up, and A had to hand the leadership on the same way.) Scheduling varies, so the scene
// is played `rounds` times; each round must end within kStuckAfter. 0 when every round ended.
struct Stage {
  std::mutex mu;
  std::condition_variable cv;
  bool slow_sync = false;  // the next fdatasync takes 100 ms (keeps a gatherer's wait long)
  bool hold = false;       // the next leader past its fdatasync waits for `release`
  bool held = false;
  bool release = false;
};
Stage stage;

void StageHandler(const char* point) {
  const std::string_view p(point);
  std::unique_lock<std::mutex> l(stage.mu);
  if (p == KillPointName(KillPoint::kWalBeforeSync) && stage.slow_sync) {
    stage.slow_sync = false;
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } else if (p == KillPointName(KillPoint::kWalAfterSync) && stage.hold) {
    stage.hold = false;
    stage.held = true;
    stage.cv.notify_all();
    stage.cv.wait(l, [] { return stage.release; });
    stage.release = false;
  }
}

int StageTheLostWakeUp(const std::string& wal_dir, int rounds) {
  WriterOptions o;
  o.segment_size = 4 << 20;
  o.sync_interval = std::chrono::milliseconds(0);
  o.max_group_wait = std::chrono::seconds(1);  // the gather waits half the fdatasync average
  SetKillPointHandler(&StageHandler);
  auto w = Writer::Open(FileSystem::Posix(), wal_dir, o, 1);
  if (!w.ok()) return 1;
  Batch b;
  b.Put("k", "v");
  const std::string batch = b.Encode();
  for (int round = 0; round < rounds; ++round) {
    {  // A group of two with a slow fdatasync: the next gatherer waits for a second member.
      std::lock_guard<std::mutex> l(stage.mu);
      stage.slow_sync = true;
    }
    auto t1 = (*w)->Submit(batch, Durability::kSync);
    auto t2 = (*w)->Submit(batch, Durability::kSync);
    if (!t1.ok() || !t2.ok() || !(*w)->Wait(*t1).ok() || !(*w)->Wait(*t2).ok()) return 1;
    {
      std::lock_guard<std::mutex> l(stage.mu);
      stage.hold = true;
      stage.held = false;
    }
    std::atomic<int> done{0};
    auto commit = [&] {
      (void)(*w)->Append(batch, Durability::kSync);
      done++;
    };
    std::thread a(commit);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::thread bt(commit);
    {
      std::unique_lock<std::mutex> l(stage.mu);
      stage.cv.wait_for(l, std::chrono::seconds(2), [] { return stage.held; });
      stage.hold = false;
    }
    std::thread c(commit);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    {
      std::lock_guard<std::mutex> l(stage.mu);
      if (stage.held) stage.release = true;
      stage.cv.notify_all();
    }
    const auto deadline = std::chrono::steady_clock::now() + kStuckAfter;
    while (done.load() < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (done.load() < 3) {
      std::fprintf(stderr,
                   "round %d: %d of 3 commits returned in %lld s: the group commit is stuck\n",
                   round, done.load(), static_cast<long long>(kStuckAfter.count()));
      _exit(kStuck);
    }
    a.join();
    bt.join();
    c.join();
  }
  return (*w)->Close().ok() ? 0 : 1;
}

TEST(WriterLivenessTest, AGathererWhoseRecordAnotherWroteHandsTheLeadershipOn) {
  test::ScratchDir dir;
  const test::ChildExit e =
      test::RunInChild([&] { return StageTheLostWakeUp(dir.Join("wal"), 20); });
  EXPECT_TRUE(e.ok()) << e << (e.code() == kStuck ? ": the group commit got stuck" : "");
}

TEST(WriterLivenessTest, TheLostWakeUpIsCaught) {
  test::ScratchDir dir;
  const test::ChildExit e = test::RunInChild([&] {
    if (!InjectBug("gatherer-leaves-silently").ok()) return 1;
    return StageTheLostWakeUp(dir.Join("wal"), 20);
  });
  EXPECT_EQ(e.code(), kStuck) << e
                              << ": 20 rounds under gatherer-leaves-silently did not get stuck";
}

}  // namespace
}  // namespace walcache::wal
