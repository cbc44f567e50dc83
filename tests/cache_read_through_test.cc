// Read-through against writers (engine/mem_table.h, "Read-through protocol"): a read that missed
// memory and read RocksDB must not cache what it read if meanwhile the key was rewritten,
// checkpointed (its new copy clean) and evicted — else every later read serves the old copy.
// The read is held between its RocksDB read and its fill with the aimed hold
// (checker/aimed_hold.h); the outside defect fill-ignores-generation (tools/mutation/mutants.py)
// fails here. Also: a small budget still caches (MemTable::ShardsFor).
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "checker/aimed_hold.h"
#include "engine/mem_table.h"
#include "tests/test_util.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

constexpr int kOthers = 40;

class ReadThroughTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = SetKillPointHandler(&checker::AimedHold::AtKillPoint);
    Options o;
    o.memory_budget_bytes = 4 << 10;  // a dozen entries
    auto c = Cache::Open(dir_.path(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cache_ = std::move(c).value();
    for (int i = 0; i < kOthers; ++i) {
      ASSERT_TRUE(cache_->Put("o" + std::to_string(i), std::string(100, 'o')).ok());
      if (i % 5 == 4) {
        ASSERT_TRUE(cache_->Checkpoint().ok());
      }
    }
  }
  void TearDown() override {
    cache_.reset();
    (void)SetKillPointHandler(previous_);
  }
  // Reads every other key twice in a row, in two rounds: the second read of a key promotes it
  // to the main queue (docs/eviction.md), and those promotions push a clean `k` out of the
  // 4 KiB budget — a scan that reads each key once would only churn the small queue.
  void ReadOthers() {
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < kOthers; ++i) {
        for (int twice = 0; twice < 2; ++twice) {
          ASSERT_TRUE(cache_->Get("o" + std::to_string(i)).ok());
        }
      }
    }
  }

  test::ScratchDir dir_;
  std::unique_ptr<Cache> cache_;
  KillPointHandler previous_ = nullptr;
};

TEST_F(ReadThroughTest, AFillOvertakenByARewriteCheckpointAndEvictionIsNotCached) {
  ASSERT_TRUE(cache_->Put("k", "old").ok());
  ASSERT_TRUE(cache_->Checkpoint().ok());
  ASSERT_NO_FATAL_FAILURE(ReadOthers());
  checker::AimedHold hold;
  hold.Arm(std::chrono::seconds(30));
  Result<Entry> first = Status::NotFound("not read");
  std::thread reader([&] {
    checker::AimedHold::Target target(&hold, KillPoint::kEngineReadThrough);
    first = cache_->Get("k");
  });
  const bool held = hold.WaitHeld(std::chrono::seconds(30));
  if (held) {
    Result<uint64_t> rewritten = cache_->Put("k", "new");
    EXPECT_TRUE(rewritten.ok());
    EXPECT_TRUE(cache_->Checkpoint().ok());
    ReadOthers();
  }
  hold.Release();
  reader.join();
  ASSERT_TRUE(held) << "'k' was still in memory: the read did not go through to RocksDB";
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // It overlapped the rewrite, so either value is right for it (the engine reads again).
  EXPECT_TRUE(first->value == "old" || first->value == "new") << first->value;
  Result<Entry> later = cache_->Get("k");
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(later->value, "new") << "the held read cached the copy the rewrite replaced";
}

TEST(MemTableShardsTest, ASmallBudgetGetsFewerShardsThatEachHoldEntries) {
  EXPECT_EQ(engine::MemTable::ShardsFor(0), 1u);
  EXPECT_EQ(engine::MemTable::ShardsFor(4 << 10), 1u);
  EXPECT_EQ(engine::MemTable::ShardsFor(1 << 20), 4u);
  EXPECT_EQ(engine::MemTable::ShardsFor(16 << 20), 64u);
  EXPECT_EQ(engine::MemTable::ShardsFor(size_t{256} << 20), 64u);
}

TEST_F(ReadThroughTest, ASmallBudgetStillCachesWhatIsRead) {
  ASSERT_TRUE(cache_->Put("k", "v").ok());
  ASSERT_TRUE(cache_->Checkpoint().ok());
  ASSERT_NO_FATAL_FAILURE(ReadOthers());
  const CacheStats before = cache_->Stats();
  ASSERT_TRUE(cache_->Get("k").ok());  // a miss: read through and cached
  ASSERT_TRUE(cache_->Get("k").ok());  // a hit
  const CacheStats after = cache_->Stats();
  EXPECT_EQ(after.read_hits_memory - before.read_hits_memory, 1u)
      << "a 4 KiB budget cached nothing";
}

}  // namespace
}  // namespace walcache
