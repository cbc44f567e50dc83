// SPDX-License-Identifier: Apache-2.0
// engine: the reverse index at scale (issue 14) — memory holds only the edges the store does not
// have yet, charged to the budget; an open reads none of the stored index; and writing a source
// invalidates what derives from it wherever the edge lives: in memory, or only in RocksDB after a
// checkpoint or a reopen. Also ReverseIndex itself.
#include "engine/reverse_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/test_util.h"
#include "util/injected_bug.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

using engine::ReverseIndex;

TEST(ReverseIndexTest, DropStoredKeepsOnlyEdgesOfVersionsAfterTheCheckpoint) {
  int64_t charged = 0;
  ReverseIndex index([&](int64_t d) { charged += d; });
  index.Add("s", "a", 5);
  index.Add("s", "b", 9);
  index.Add("t", "a", 3);
  EXPECT_EQ(index.edges(), 3u);
  EXPECT_EQ(static_cast<uint64_t>(charged), index.bytes());
  EXPECT_GT(charged, 0);
  index.Add("s", "a", 12);  // a later version adds the edge again: it stays past 9
  index.DropStored(9);
  EXPECT_EQ(index.DependentsOf("s"), std::vector<std::string>{"a"});
  EXPECT_TRUE(index.DependentsOf("t").empty());
  index.Drop("s", "a");
  EXPECT_EQ(index.edges(), 0u);
  EXPECT_EQ(charged, 0) << "every byte charged is given back";
}

class StoredIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> Open() {
    Options o;
    o.durability = Durability::kBuffered;
    auto c = Cache::Open(dir_.path(), o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  // Commits `source` and `derived` derived from it, in one transaction.
  static bool CommitPair(Cache* c, const std::string& source, const std::string& derived) {
    Transaction t = c->Begin();
    t.Put(source, "v");
    t.Put(derived, "x", {.related = {{source, 0}}});
    return t.Commit().ok();
  }
  test::ScratchDir dir_;
};

TEST_F(StoredIndexTest, WritingASourceInvalidatesDependentsThatOnlyRocksDbHoldsAfterAReopen) {
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    Transaction t = c->Begin();
    t.Put("s", "v");
    t.Put("d", "x", {.related = {{"s", 0}}});
    t.Put("dd", "y", {.related = {{"d", 0}}});  // derived from the derived: transitively
    ASSERT_TRUE(t.Commit().ok());
    EXPECT_EQ(c->Stats().index_memory_edges, 2u) << "not checkpointed yet: in memory";
    ASSERT_TRUE(c->Close().ok());
  }
  auto c = Open();
  ASSERT_NE(c, nullptr);
  CacheStats st = c->Stats();
  EXPECT_EQ(st.index_memory_edges, 0u) << "an open loads none of the stored index";
  EXPECT_EQ(st.index_memory_bytes, 0u);
  EXPECT_EQ(st.memory_entries, 0u) << "nothing in memory: the edges are RocksDB's alone";
  ASSERT_TRUE(c->Put("s", "v2").ok());
  EXPECT_TRUE(c->Get("d").status().IsNotFound()) << "I1: d derived from the old s";
  EXPECT_TRUE(c->Get("dd").status().IsNotFound()) << "I1: dd derived from d";
  st = c->Stats();
  EXPECT_EQ(st.invalidations, 2u);
  EXPECT_EQ(st.commit_store_reads, 0u) << "the sequencer read no RocksDB under its lock";
  ASSERT_TRUE(c->Close().ok());
  c = Open();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Get("d").status().IsNotFound()) << "the invalidation is durable";
  ASSERT_TRUE(c->Get("s").ok());
}

// The test above can fail: with the store's edges not asked, the dependent survives the write.
TEST_F(StoredIndexTest, WithThePlantedBugStoredIndexSkippedTheDependentSurvives) {
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(CommitPair(c.get(), "s", "d"));
    ASSERT_TRUE(c->Close().ok());
  }
  ASSERT_TRUE(InjectBug("stored-index-skipped").ok());
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Put("s", "v2").ok());
  const bool survived = c->Get("d").ok();
  c.reset();
  ASSERT_TRUE(InjectBug("").ok());
  EXPECT_TRUE(survived) << "the planted bug must break I1 here";
}

TEST_F(StoredIndexTest, ACheckpointMovesEdgesFromMemoryToTheStoreAndGivesBackTheirBytes) {
  auto c = Open();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(CommitPair(c.get(), "s:" + std::to_string(i), "d:" + std::to_string(i)));
  }
  CacheStats st = c->Stats();
  EXPECT_EQ(st.index_memory_edges, 100u);
  EXPECT_GT(st.index_memory_bytes, 100u * 64) << "charged to the budget";
  EXPECT_GE(st.memory_bytes, st.index_memory_bytes);
  ASSERT_TRUE(c->Checkpoint().ok());
  st = c->Stats();
  EXPECT_EQ(st.index_memory_edges, 0u);
  EXPECT_EQ(st.index_memory_bytes, 0u);
  for (int i = 0; i < 100; i += 3) ASSERT_TRUE(c->Put("s:" + std::to_string(i), "w").ok());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(c->Get("d:" + std::to_string(i)).ok(), i % 3 != 0) << i;
  }
}

TEST_F(StoredIndexTest, AnEdgeInMemoryAndInTheStoreIsFollowedOnce) {
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(CommitPair(c.get(), "s", "d"));
  ASSERT_TRUE(c->Checkpoint().ok());
  Result<Entry> s = c->Get("s");
  ASSERT_TRUE(s.ok());
  // Derived again from the same source: the edge is now in both places.
  ASSERT_TRUE(c->Put("d", "x2", {.related = {{"s", s->update_id}}}).ok());
  ASSERT_TRUE(c->Put("s", "v2").ok());
  EXPECT_TRUE(c->Get("d").status().IsNotFound());
  EXPECT_EQ(c->Stats().invalidations, 1u);
}

}  // namespace
}  // namespace walcache
