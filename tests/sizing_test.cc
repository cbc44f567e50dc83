// SPDX-License-Identifier: Apache-2.0
// sizing_test: the memory charge per key that docs/sizing.md states — 192 bytes of per-key
// overhead plus the key, 88 bytes per version plus its value, 40 bytes plus the key per related
// key (engine/mem_table.cc), and the reverse index's edges and cached lists — as
// Stats().memory_bytes reports it. If this fails, the formula
// changed: correct docs/sizing.md with it. The sizes are those of x86-64 libstdc++ (the tested
// platform); elsewhere the test skips.
#include <gtest/gtest.h>

#include <string>

#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

constexpr uint64_t kPerKey = 192, kPerVersion = 88, kPerRelated = 40;
// An in-memory reverse-index edge and a source's first one (engine/reverse_index.cc).
constexpr uint64_t kPerEdge = 64, kPerIndexedSource = 96;
// A cached stored list, and each edge in it (engine/reverse_index.cc).
constexpr uint64_t kPerCachedList = 160, kPerCachedEdge = 32;

class SizingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (sizeof(std::string) != 32 || sizeof(RelatedKey) != 40) {
      GTEST_SKIP() << "the guide's numbers are for x86-64 libstdc++";
    }
    auto c = Cache::Open(dir_.path(), {});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cache_ = std::move(c).value();
  }
  // Entries and in-memory edges: memory_bytes less the cached stored lists (every key written
  // looks up its stored dependents, and caches the list, empty or not; tested below).
  uint64_t Charged() {
    const CacheStats s = cache_->Stats();
    return s.memory_bytes - s.index_cache_bytes;
  }

  test::ScratchDir dir_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(SizingTest, AKeyIsChargedItsOverheadItsKeyAndOneVersionWithItsValue) {
  const std::string key = "user:00000001";  // 13 bytes
  ASSERT_TRUE(cache_->Put(key, std::string(1024, 'v')).ok());
  EXPECT_EQ(Charged(), kPerKey + 13 + kPerVersion + 1024);  // 1317
}

TEST_F(SizingTest, ARelatedKeyAddsItsSizeAndFortyBytes) {
  ASSERT_TRUE(cache_->Put("user:00000001", "u").ok());
  const uint64_t source = Charged();
  ASSERT_TRUE(cache_->Put("page:00000001", "p", {.related = {{"user:00000001", 1}}}).ok());
  // The entry, and its reverse-index edge (engine/reverse_index.cc) until a checkpoint stores it:
  // the source's first edge, so both keys, a map node and the source's node.
  EXPECT_EQ(Charged() - source, kPerKey + 13 + kPerVersion + 1 + kPerRelated + 13 +  // 347
                                    kPerEdge + 13 + kPerIndexedSource + 13);         // + 186
  EXPECT_EQ(cache_->Stats().index_memory_bytes, kPerEdge + 13 + kPerIndexedSource + 13);
  ASSERT_TRUE(cache_->Checkpoint().ok());
  EXPECT_EQ(cache_->Stats().index_memory_bytes, 0u) << "the stored edge leaves memory";
}

TEST_F(SizingTest, ACachedStoredListIsChargedItsKeysAndAnOverhead) {
  // Writing a key looks up what derives from it: its stored list is cached, empty.
  ASSERT_TRUE(cache_->Put("user:00000001", "u").ok());
  EXPECT_EQ(cache_->Stats().index_cache_bytes, kPerCachedList + 13);
  ASSERT_TRUE(cache_->Put("page:00000001", "p", {.related = {{"user:00000001", 1}}}).ok());
  EXPECT_EQ(cache_->Stats().index_cache_bytes, 2 * (kPerCachedList + 13));
  // The checkpoint stores the edge and adds it to user's cached list.
  ASSERT_TRUE(cache_->Checkpoint().ok());
  EXPECT_EQ(cache_->Stats().index_cache_bytes, 2 * (kPerCachedList + 13) + kPerCachedEdge + 13);
  EXPECT_EQ(cache_->Stats().index_cached_lists, 2u);
}

TEST_F(SizingTest, ARewrittenKeyHoldsTwoVersionsUntilTheCheckpoint) {
  const std::string key = "user:00000001";
  ASSERT_TRUE(cache_->Put(key, std::string(100, 'a')).ok());
  ASSERT_TRUE(cache_->Put(key, std::string(200, 'b')).ok());
  EXPECT_EQ(Charged(), kPerKey + 13 + 2 * kPerVersion + 100 + 200);
  ASSERT_TRUE(cache_->Checkpoint().ok());
  EXPECT_EQ(Charged(), kPerKey + 13 + kPerVersion + 200);
}

TEST_F(SizingTest, ADeletedKeyIsATombstoneUntilTheCheckpointTakesItOut) {
  ASSERT_TRUE(cache_->Put("k", "v").ok());
  ASSERT_TRUE(cache_->Checkpoint().ok());
  ASSERT_TRUE(cache_->Delete("k").ok());
  EXPECT_GE(Charged(), kPerKey + 1 + kPerVersion);  // the tombstone, and perhaps "v" for readers
  ASSERT_TRUE(cache_->Checkpoint().ok());
  EXPECT_EQ(Charged(), 0u);
}

}  // namespace
}  // namespace walcache
