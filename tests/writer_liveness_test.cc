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
#include "util/forwarding_file_system.h"
#include "util/forwarding_writable_file.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
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
// wake-up, and A had to hand the leadership on the same way.)
//
// A's gather lasts half the writer's fdatasync average, and the scene needs it to outlast B's
// write, B's fdatasync and C's write. So the WAL's fdatasyncs are paced, not the disk's: each
// takes kPacedSync (no real fdatasync, which on a loaded machine takes what it takes; this test
// is about the protocol, not durability), except B's, which returns at once. A gather then waits
// about 100 ms, against a few ms for the rest of the scene; each step waits for the write before
// it, not for a guess of how long a thread takes to start. An earlier version used the disk's
// fdatasyncs and a 100 ms sleep in one of three: the average, and so the gather, fell to ~20 ms,
// and under ASan on a loaded CI machine none of 20 rounds staged the scene.
constexpr auto kPacedSync = std::chrono::milliseconds(400);

struct Stage {
  std::mutex mu;
  std::condition_variable cv;
  int writes = 0;          // WAL writes so far
  bool fast_sync = false;  // the next fdatasync returns at once (B's)
  bool hold = false;       // the next leader past its fdatasync waits for `release`
  bool held = false;
  bool release = false;

  bool AwaitWrites(int n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), [&] { return writes >= n; });
  }
  int Writes() {
    std::lock_guard<std::mutex> l(mu);
    return writes;
  }
};
Stage stage;

// The WAL's files under the stage: writes are counted, fdatasyncs paced (see above).
class PacedFileSystem final : public ForwardingFileSystem {
 public:
  explicit PacedFileSystem(FileSystem* base) : ForwardingFileSystem(base) {}
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base()->OpenWritable(path, mode));
    return std::unique_ptr<WritableFile>(new File(std::move(f)));
  }

 private:
  class File final : public ForwardingWritableFile {
   public:
    explicit File(std::unique_ptr<WritableFile> base) : ForwardingWritableFile(std::move(base)) {}
    Status Write(uint64_t offset, std::string_view data) override {
      Status s = base()->Write(offset, data);
      std::lock_guard<std::mutex> l(stage.mu);
      stage.writes++;
      stage.cv.notify_all();
      return s;
    }
    Status Sync() override {
      bool fast;
      {
        std::lock_guard<std::mutex> l(stage.mu);
        fast = stage.fast_sync;
        stage.fast_sync = false;
      }
      if (!fast) std::this_thread::sleep_for(kPacedSync);
      return Status::OK();
    }
  };
};

void StageHandler(const char* point) {
  if (std::string_view(point) != KillPointName(KillPoint::kWalAfterSync)) return;
  std::unique_lock<std::mutex> l(stage.mu);
  if (!stage.hold) return;
  stage.hold = false;
  stage.held = true;
  stage.cv.notify_all();
  stage.cv.wait(l, [] { return stage.release; });
  stage.release = false;
}

// Plays the scene `rounds` times; each round must end within kStuckAfter. 0 when all ended.
int StageTheLostWakeUp(const std::string& wal_dir, int rounds) {
  WriterOptions o;
  o.segment_size = 4 << 20;
  o.sync_interval = std::chrono::milliseconds(0);
  o.max_group_wait = std::chrono::seconds(1);  // the gather waits half the fdatasync average
  SetKillPointHandler(&StageHandler);
  PacedFileSystem fs(FileSystem::Posix());
  auto w = Writer::Open(&fs, wal_dir, o, 1);
  if (!w.ok()) return 1;
  Batch b;
  b.Put("k", "v");
  const std::string batch = b.Encode();
  for (int round = 0; round < rounds; ++round) {
    // A group of two: the next gatherer waits for a second member.
    auto t1 = (*w)->Submit(batch, Durability::kSync);
    auto t2 = (*w)->Submit(batch, Durability::kSync);
    if (!t1.ok() || !t2.ok() || !(*w)->Wait(*t1).ok() || !(*w)->Wait(*t2).ok()) return 1;
    {
      std::lock_guard<std::mutex> l(stage.mu);
      stage.fast_sync = true;
      stage.hold = true;
      stage.held = false;
    }
    std::atomic<int> done{0};
    auto commit = [&] {
      (void)(*w)->Append(batch, Durability::kSync);
      done++;
    };
    const int writes = stage.Writes();
    std::thread a(commit);
    // A's write is done; it goes on to gather under the writer's lock without a pause.
    if (!stage.AwaitWrites(writes + 1)) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::thread bt(commit);
    {
      std::unique_lock<std::mutex> l(stage.mu);
      if (!stage.cv.wait_for(l, std::chrono::seconds(10), [] { return stage.held; })) return 1;
    }
    std::thread c(commit);
    if (!stage.AwaitWrites(writes + 3)) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // C goes to sleep
    {
      std::lock_guard<std::mutex> l(stage.mu);
      stage.release = true;
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
      test::RunInChild([&] { return StageTheLostWakeUp(dir.Join("wal"), 4); });
  EXPECT_TRUE(e.ok()) << e << (e.code() == kStuck ? ": the group commit got stuck" : "");
}

TEST(WriterLivenessTest, TheLostWakeUpIsCaught) {
  test::ScratchDir dir;
  const test::ChildExit e = test::RunInChild([&] {
    if (!InjectBug("gatherer-leaves-silently").ok()) return 1;
    return StageTheLostWakeUp(dir.Join("wal"), 4);
  });
  EXPECT_EQ(e.code(), kStuck) << e << ": 4 rounds under gatherer-leaves-silently did not get stuck";
}

}  // namespace
}  // namespace walcache::wal
