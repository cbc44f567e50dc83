// engine: memory and background work — the memory budget with a data set fifty times larger,
// read-through after eviction, prewarm after recovery, the expiry sweeper, and the background
// checkpoint triggers (dirty bytes, WAL bytes, interval).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

using std::chrono::milliseconds;

// A value that names its key and round, padded to `size` with bytes LZ4 cannot shrink much.
std::string ValueOf(int key, int round, size_t size) {
  std::string v = "k" + std::to_string(key) + "r" + std::to_string(round) + ":";
  uint64_t x = static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(round);
  while (v.size() < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v.push_back(static_cast<char>('!' + x % 90));
  }
  return v;
}

std::string KeyOf(int i) { return "key:" + std::to_string(i); }

// Polls `done` for up to 10 s.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

class CacheMemoryTest : public ::testing::Test {
 protected:
  Options Opts() {
    Options o;
    o.clock_ms = [this] { return now_.load(); };
    o.sync_interval = milliseconds(5);
    return o;
  }
  std::unique_ptr<Cache> OpenCache(const Options& o) {
    auto c = Cache::Open(dir_.path(), o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  test::ScratchDir dir_;
  std::atomic<uint64_t> now_{1'000'000};
};

TEST_F(CacheMemoryTest, OneMebibyteBudgetServesFiftyMebibytesOfData) {
  constexpr size_t kBudget = 1 << 20;
  constexpr int kKeys = 50 * 1024;  // of 1 KiB values: 50 MiB
  constexpr size_t kValue = 1024;
  Options o = Opts();
  o.memory_budget_bytes = kBudget;
  o.durability = Durability::kBuffered;
  uint64_t peak = 0;
  {
    auto c = OpenCache(o);
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(c->Put(KeyOf(i), ValueOf(i, 0, kValue)).ok()) << i;
      if (i % 256 == 0) peak = std::max(peak, c->Stats().memory_bytes);
    }
    // Dirty entries are never evicted; the checkpointer and the write stall bound them.
    EXPECT_LE(peak, 2 * kBudget) << "memory is not bounded while writing";
    // Every key reads back: from memory if still there, else through RocksDB.
    for (int i = 0; i < kKeys; i += 7) {
      auto e = c->Get(KeyOf(i));
      ASSERT_TRUE(e.ok()) << i << ": " << e.status().ToString();
      ASSERT_EQ(e->value, ValueOf(i, 0, kValue)) << i;
    }
    ASSERT_TRUE(c->Checkpoint().ok());
    CacheStats s = c->Stats();
    EXPECT_LE(s.memory_bytes, kBudget);
    EXPECT_GT(s.evictions, static_cast<uint64_t>(kKeys / 2));
    EXPECT_GT(s.read_through, 0u);
    EXPECT_GT(s.checkpoints, 2u) << "background checkpoints never ran";
    EXPECT_LT(s.memory_entries, static_cast<uint64_t>(kKeys / 20));
    // Overwrite a slice after eviction: the new version wins over RocksDB's.
    for (int i = 0; i < kKeys; i += 97) ASSERT_TRUE(c->Put(KeyOf(i), ValueOf(i, 1, kValue)).ok());
  }
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < kKeys; i += 5) {
    auto e = c->Get(KeyOf(i));
    ASSERT_TRUE(e.ok()) << i << ": " << e.status().ToString();
    ASSERT_EQ(e->value, ValueOf(i, i % 97 == 0 ? 1 : 0, kValue)) << i;
  }
  EXPECT_LE(c->Stats().memory_bytes, kBudget);
}

TEST_F(CacheMemoryTest, HotKeysStayInMemoryUnderAScan) {
  Options o = Opts();
  o.memory_budget_bytes = 512 << 10;
  o.durability = Durability::kBuffered;
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 4000; ++i) ASSERT_TRUE(c->Put(KeyOf(i), ValueOf(i, 0, 512)).ok());
  ASSERT_TRUE(c->Checkpoint().ok());
  // 100 hot keys read often, then a one-pass scan over everything, then the hot keys again.
  for (int r = 0; r < 5; ++r) {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(c->Get(KeyOf(i)).ok());
  }
  for (int i = 100; i < 4000; ++i) ASSERT_TRUE(c->Get(KeyOf(i)).ok());
  const uint64_t before = c->Stats().read_through;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c->Get(KeyOf(i)).ok());
  // S3-FIFO: the scan churns through the small queue; the hot keys sit in main.
  EXPECT_LE(c->Stats().read_through - before, 5u);
}

TEST_F(CacheMemoryTest, PrewarmLoadsTheMostRecentlyUpdatedEntries) {
  {
    auto c = OpenCache(Opts());
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(c->Put(KeyOf(i), ValueOf(i, 0, 1000)).ok());
    ASSERT_TRUE(c->Put(KeyOf(3), ValueOf(3, 1, 1000)).ok());  // key 3 is now the newest
  }
  Options o = Opts();
  o.prewarm_bytes = 20 * 1200;  // room for about 20 entries of 1000 bytes and overhead
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  const RecoveryInfo r = c->LastRecovery();
  EXPECT_GE(r.prewarmed_entries, 15u);
  EXPECT_LE(r.prewarmed_entries, 20u);
  EXPECT_LE(r.prewarmed_bytes, o.prewarm_bytes);
  EXPECT_NE(r.summary.find("prewarmed"), std::string::npos) << r.summary;
  // The newest: key 3, then keys 199, 198, ... are in memory; reading them reads no RocksDB.
  ASSERT_TRUE(c->Get(KeyOf(3)).ok());
  for (int i = 199; i > 199 - 10; --i) ASSERT_TRUE(c->Get(KeyOf(i)).ok());
  EXPECT_EQ(c->Stats().read_through, 0u);
  ASSERT_EQ(c->Get(KeyOf(3))->value, ValueOf(3, 1, 1000));
  // An old one is not.
  ASSERT_TRUE(c->Get(KeyOf(10)).ok());
  EXPECT_EQ(c->Stats().read_through, 1u);
}

TEST_F(CacheMemoryTest, PrewarmOffByDefaultLoadsNothing) {
  {
    auto c = OpenCache(Opts());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Put("a", "1").ok());
  }
  auto c = OpenCache(Opts());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->LastRecovery().prewarmed_entries, 0u);
  EXPECT_EQ(c->Stats().memory_entries, 0u);
}

TEST_F(CacheMemoryTest, SweeperDropsExpiredEntriesFromMemory) {
  Options o = Opts();
  o.expiry_sweep_interval = milliseconds(10);
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Put("short", "x", {.ttl_ms = 1000}).ok());
  ASSERT_TRUE(c->Put("long", "y", {.ttl_ms = 100'000}).ok());
  ASSERT_TRUE(c->Put("forever", "z").ok());
  ASSERT_TRUE(c->Checkpoint().ok());  // clean: the sweeper may drop them
  now_ += 5000;
  ASSERT_TRUE(Eventually([&] { return c->Stats().expired_swept == 1; }));
  EXPECT_TRUE(c->Get("short").status().IsNotFound());
  EXPECT_TRUE(c->Get("long").ok());
  EXPECT_TRUE(c->Get("forever").ok());
  EXPECT_EQ(c->Stats().memory_entries, 2u);
  // Dirty expired entries wait for the checkpoint that stores them; then they go too.
  ASSERT_TRUE(c->Put("dirty", "w", {.ttl_ms = 10}).ok());
  now_ += 100;
  EXPECT_TRUE(c->Get("dirty").status().IsNotFound());
  ASSERT_TRUE(c->Checkpoint().ok());
  ASSERT_TRUE(Eventually([&] { return c->Stats().expired_swept == 2; }));
}

Options NoTriggers(Options o) {
  o.checkpoint_dirty_bytes = 64 << 20;
  o.checkpoint_wal_bytes = 0;
  o.checkpoint_interval = milliseconds(0);
  return o;
}

TEST_F(CacheMemoryTest, DirtyBytesTriggerABackgroundCheckpoint) {
  Options o = NoTriggers(Opts());
  o.checkpoint_dirty_bytes = 64 << 10;
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c->Put(KeyOf(i), ValueOf(i, 0, 1000)).ok());
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(c->Stats().checkpoints, 0u) << "checkpointed under the trigger";
  for (int i = 20; i < 100; ++i) ASSERT_TRUE(c->Put(KeyOf(i), ValueOf(i, 0, 1000)).ok());
  ASSERT_TRUE(Eventually([&] { return c->Stats().checkpoints >= 1; }));
  EXPECT_GT(c->Stats().checkpoint_seq, 0u);
}

TEST_F(CacheMemoryTest, WalBytesTriggerABackgroundCheckpoint) {
  Options o = NoTriggers(Opts());
  o.checkpoint_wal_bytes = 32 << 10;
  o.compression = false;
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  // Rewriting one key: dirty bytes stay tiny, the log grows.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c->Put("k", ValueOf(1, i, 1000)).ok());
  ASSERT_TRUE(Eventually([&] { return c->Stats().checkpoints >= 1; }));
}

TEST_F(CacheMemoryTest, IntervalTriggersABackgroundCheckpointOnlyWhenSomethingIsDirty) {
  Options o = NoTriggers(Opts());
  o.checkpoint_interval = milliseconds(30);
  auto c = OpenCache(o);
  ASSERT_NE(c, nullptr);
  std::this_thread::sleep_for(milliseconds(120));
  EXPECT_EQ(c->Stats().checkpoints, 0u) << "checkpointed with nothing dirty";
  ASSERT_TRUE(c->Put("k", "v").ok());
  ASSERT_TRUE(Eventually([&] {
    const CacheStats s = c->Stats();
    return s.checkpoints >= 1 && s.dirty_entries == 0;
  }));
}

}  // namespace
}  // namespace walcache
