// engine: recovery is a pure function of the checkpoint and the log, so RocksDB's expiry filter
// never drops a stored entry that a WAL record after the checkpoint still acts on (issue 12,
// bug 2: an acknowledged Touch lost after a crash when a compaction had dropped the stored copy
// it extends). The filter drops only entries expired by the checkpoint's expiry horizon; the
// planted bug expiry-filter-uses-clock restores the old rule and must lose the Touch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "checker/aimed_hold.h"
#include "engine/rocks_store.h"
#include "tests/child_process.h"
#include "tests/test_util.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

constexpr uint64_t kStart = 1'000'000;

class ExpiryHorizonTest : public ::testing::Test {
 protected:
  void TearDown() override { (void)InjectBug(""); }
  Options Opts() {
    Options o;
    o.clock_ms = [this] { return now_.load(); };
    return o;
  }

  // In a child that dies without closing: "k" is stored by a checkpoint with a TTL of 1 s, then
  // a sync Touch at +0.5 s extends it to +10.5 s and is acknowledged; no checkpoint after it.
  void TouchThenDie() {
    const test::ChildExit e = test::RunInChild([&]() -> int {
      auto c = Cache::Open(dir_.path(), Opts());
      if (!c.ok()) ::_exit(2);
      if (!(*c)->Put("k", "value", {.ttl_ms = 1000}).ok()) ::_exit(3);
      if (!(*c)->Checkpoint().ok()) ::_exit(4);
      now_ = kStart + 500;
      if (!(*c)->Touch("k", 10'000).ok()) ::_exit(5);
      ::_exit(0);  // no close, no checkpoint: the Touch lives only in the WAL
    });
    ASSERT_TRUE(e.ok()) << e;
  }

  // What a background compaction of the dead process could have done once the old expiry
  // passed: compacts its RocksDB with the filter, at +2 s.
  void CompactStoreAt(uint64_t now) {
    engine::StoreOptions so;
    so.now_ms = [now] { return now; };
    auto store = engine::RocksStore::Open(dir_.Join("rocksdb"), so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CompactAll().ok());
  }

  test::ScratchDir dir_;
  std::atomic<uint64_t> now_{kStart};
};

TEST_F(ExpiryHorizonTest, AnAcknowledgedTouchSurvivesACompactionAfterTheOldExpiry) {
  ASSERT_NO_FATAL_FAILURE(TouchThenDie());
  ASSERT_NO_FATAL_FAILURE(CompactStoreAt(kStart + 2000));
  now_ = kStart + 2000;
  auto c = Cache::Open(dir_.path(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Result<Entry> e = (*c)->Get("k");
  ASSERT_TRUE(e.ok()) << "the acknowledged Touch was lost: " << e.status().ToString();
  EXPECT_EQ(e->value, "value");
  EXPECT_EQ(e->expires_at, kStart + 10'500);
}

// A checkpoint that pins while a Touch is logged but not yet visible must store that Touch's
// instant as its horizon, not the clock's time: the compaction after it would otherwise drop
// the stored copy the Touch extends, and the Touch dies with the process (the outside defect
// horizon-ignores-in-flight, tools/mutation/mutants.py, fails here).
TEST_F(ExpiryHorizonTest, ACheckpointWithATouchInFlightTakesItsInstantAsTheHorizon) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    (void)SetKillPointHandler(&checker::AimedHold::AtKillPoint);
    auto c = Cache::Open(dir_.path(), Opts());
    if (!c.ok()) ::_exit(2);
    if (!(*c)->Put("k", "value", {.ttl_ms = 1000}).ok()) ::_exit(3);
    if (!(*c)->Checkpoint().ok()) ::_exit(4);
    now_ = kStart + 500;
    checker::AimedHold hold;
    hold.Arm(std::chrono::seconds(30));
    std::atomic<bool> touched{false};
    std::thread toucher([&] {
      checker::AimedHold::Target target(&hold, KillPoint::kEngineLogged);
      touched = (*c)->Touch("k", 10'000).ok();
    });
    if (!hold.WaitHeld(std::chrono::seconds(30))) ::_exit(5);
    now_ = kStart + 2000;  // past the old expiry, while the Touch is in flight
    const bool compacted = (*c)->Compact().ok();
    hold.Release();
    toucher.join();
    if (!compacted) ::_exit(6);
    if (!touched) ::_exit(7);
    ::_exit(0);  // no close: the Touch lives only in the WAL
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  {
    engine::StoreOptions so;
    auto store = engine::RocksStore::Open(dir_.Join("rocksdb"), so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->expiry_horizon(), kStart + 500) << "the in-flight Touch's instant";
  }
  now_ = kStart + 2000;
  auto c = Cache::Open(dir_.path(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Result<Entry> e = (*c)->Get("k");
  ASSERT_TRUE(e.ok()) << "the acknowledged Touch was lost: " << e.status().ToString();
  EXPECT_EQ(e->expires_at, kStart + 10'500);
}

TEST_F(ExpiryHorizonTest, ThePlantedBugLosesTheTouch) {
  ASSERT_NO_FATAL_FAILURE(TouchThenDie());
  ASSERT_TRUE(InjectBug("expiry-filter-uses-clock").ok());
  ASSERT_NO_FATAL_FAILURE(CompactStoreAt(kStart + 2000));
  ASSERT_TRUE(InjectBug("").ok());
  now_ = kStart + 2000;
  auto c = Cache::Open(dir_.path(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->Get("k").status().IsNotFound()) << "the test cannot see the bug";
}

TEST_F(ExpiryHorizonTest, ACheckpointMovesTheHorizonAndTheFilterThenDrops) {
  {
    auto c = Cache::Open(dir_.path(), Opts());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Put("short", "x", {.ttl_ms = 100}).ok());
    ASSERT_TRUE((*c)->Checkpoint().ok());
    now_ = kStart + 5000;
    ASSERT_TRUE((*c)->Put("later", "y").ok());
    ASSERT_TRUE((*c)->Checkpoint().ok());
  }
  engine::StoreOptions so;
  auto store = engine::RocksStore::Open(dir_.Join("rocksdb"), so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->expiry_horizon(), kStart + 5000) << "the instant of the newest commit";
  ASSERT_TRUE((*store)->CompactAll().ok());
  EXPECT_FALSE((*store)->Get("short")->has_value()) << "expired before the horizon: dropped";
  EXPECT_TRUE((*store)->Get("later")->has_value());
}

TEST_F(ExpiryHorizonTest, AClockSetBackNeverRunsBelowTheHorizon) {
  now_ = kStart + 5000;
  {
    auto c = Cache::Open(dir_.path(), Opts());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Put("a", "1").ok());
  }               // the close checkpoints at horizon +5 s
  now_ = kStart;  // the clock stepped back
  auto c = Cache::Open(dir_.path(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Put("b", "2", {.ttl_ms = 100}).ok());
  EXPECT_EQ((*c)->Get("b")->expires_at, kStart + 5100) << "TTLs count from the horizon";
}

}  // namespace
}  // namespace walcache
