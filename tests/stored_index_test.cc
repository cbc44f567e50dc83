// The reverse index read on demand (engine/reverse_index.h): a cascade finds a derived entry
// whether its edge is in memory (not yet checkpointed) or only in RocksDB (checkpointed, after a
// reopen); an edge committed while a checkpoint runs stays in memory after it; a source that
// never had a stored dependent costs no seek; a version-1 store (no source markers) is upgraded
// at its first writable open; a commit's RocksDB reads made before the sequencer are not
// trusted after a checkpoint changed the store; a source's stored list is read from RocksDB once
// and then cached, until a checkpoint adds to it, and not cached at all when a checkpoint landed
// while it was read. Each of the five planted bugs that break these (index-skips-store,
// index-forgets-unwritten, prefetch-ignores-checkpoint, index-cache-outlives-checkpoint,
// index-fill-ignores-generation) fails here.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <string>
#include <thread>

#include "checker/aimed_hold.h"
#include "engine/store_keys.h"
#include "tests/test_util.h"
#include "util/coding.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

class StoredIndexTest : public ::testing::Test {
 protected:
  void TearDown() override {
    cache_.reset();
    ASSERT_TRUE(InjectBug("").ok());
  }
  void Open(bool read_only = false) {
    cache_.reset();
    Options o;
    o.read_only = read_only;
    o.checkpoint_interval = std::chrono::milliseconds(0);  // checkpoints only when asked
    auto c = Cache::Open(dir_.path(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cache_ = std::move(c).value();
  }
  // Writes source `s` and `d` derived from it; returns s's updateId.
  uint64_t PutPair(const std::string& s, const std::string& d) {
    Result<uint64_t> sid = cache_->Put(s, "v");
    EXPECT_TRUE(sid.ok());
    PutOptions po;
    po.related = {RelatedKey{s, *sid}};
    EXPECT_TRUE(cache_->Put(d, "derived", po).ok());
    return *sid;
  }
  bool Present(const std::string& key) { return cache_->Get(key).ok(); }
  // s -> d1 in the store only, s's list not cached (a reopen), s -> d2 in memory only.
  void StoreOneEdgeAndKeepOneInMemory() {
    const uint64_t sid = PutPair("s", "d1");
    ASSERT_TRUE(cache_->Checkpoint().ok());
    Open();
    ASSERT_TRUE(cache_->Put("d2", "derived", PutOptions{.related = {RelatedKey{"s", sid}}}).ok());
    ASSERT_EQ(cache_->Stats().index_memory_edges, 1u);
  }

  test::ScratchDir dir_;
  std::unique_ptr<Cache> cache_;
};

// The edge in memory, then only in RocksDB (checkpointed), then after a reopen.
TEST_F(StoredIndexTest, ACascadeFindsEdgesInMemoryAndInTheStore) {
  Open();
  PutPair("s1", "d1");
  EXPECT_EQ(cache_->Stats().index_memory_edges, 1u);
  ASSERT_TRUE(cache_->Put("s1", "w").ok());
  EXPECT_FALSE(Present("d1")) << "edge in memory";

  PutPair("s2", "d2");
  ASSERT_TRUE(cache_->Checkpoint().ok());
  EXPECT_EQ(cache_->Stats().index_memory_edges, 0u) << "a checkpoint moves its edges to the store";
  ASSERT_TRUE(cache_->Put("s2", "w").ok());
  EXPECT_FALSE(Present("d2")) << "edge only in the store";

  PutPair("s3", "d3");
  ASSERT_TRUE(cache_->Checkpoint().ok());
  Open();
  EXPECT_EQ(cache_->Stats().index_memory_edges, 0u) << "the open reads no index";
  ASSERT_TRUE(Present("d3"));
  ASSERT_TRUE(cache_->Put("s3", "w").ok());
  EXPECT_FALSE(Present("d3")) << "edge in the store, after a reopen";
}

TEST_F(StoredIndexTest, TheCheckIsCaughtWithIndexSkipsStore) {
  ASSERT_TRUE(InjectBug("index-skips-store").ok());
  Open();
  PutPair("s", "d");
  ASSERT_TRUE(cache_->Checkpoint().ok());
  ASSERT_TRUE(cache_->Put("s", "w").ok());
  EXPECT_TRUE(Present("d")) << "the planted bug's stale entry: the check above can fail";
}

// A derived entry committed between a checkpoint's pin and its write: the checkpoint does not
// store its edge, so memory must keep it.
void CommitDuringACheckpoint(Cache* cache, bool* held_out) {
  checker::AimedHold hold;
  hold.Arm(std::chrono::seconds(30));
  Status cp;
  std::thread checkpointer([&] {
    checker::AimedHold::Target target(&hold, KillPoint::kCheckpointPinned);
    cp = cache->Checkpoint();
  });
  const bool held = hold.WaitHeld(std::chrono::seconds(30));
  if (held) {
    Result<Entry> s = cache->Get("s");
    EXPECT_TRUE(s.ok());
    PutOptions po;
    po.related = {RelatedKey{"s", s.ok() ? s->update_id : 0}};
    EXPECT_TRUE(cache->Put("d", "derived", po).ok());
  }
  hold.Release();
  checkpointer.join();
  EXPECT_TRUE(cp.ok()) << cp.ToString();
  *held_out = held;
}

class StoredIndexHeldTest : public StoredIndexTest {
 protected:
  void SetUp() override { previous_ = SetKillPointHandler(&checker::AimedHold::AtKillPoint); }
  void TearDown() override {
    StoredIndexTest::TearDown();
    (void)SetKillPointHandler(previous_);
  }
  KillPointHandler previous_ = nullptr;
};

TEST_F(StoredIndexHeldTest, AnEdgeCommittedDuringACheckpointStaysInMemory) {
  Open();
  ASSERT_TRUE(cache_->Put("s", "v").ok());
  bool held = false;
  CommitDuringACheckpoint(cache_.get(), &held);
  ASSERT_TRUE(held) << "the checkpoint was never held at its pin";
  EXPECT_EQ(cache_->Stats().index_memory_edges, 1u);
  ASSERT_TRUE(cache_->Put("s", "w").ok());
  EXPECT_FALSE(Present("d")) << "the edge the checkpoint did not store was lost";
}

TEST_F(StoredIndexHeldTest, TheCheckIsCaughtWithIndexForgetsUnwritten) {
  ASSERT_TRUE(InjectBug("index-forgets-unwritten").ok());
  Open();
  ASSERT_TRUE(cache_->Put("s", "v").ok());
  bool held = false;
  CommitDuringACheckpoint(cache_.get(), &held);
  ASSERT_TRUE(held);
  EXPECT_EQ(cache_->Stats().index_memory_edges, 0u);
  ASSERT_TRUE(cache_->Put("s", "w").ok());
  EXPECT_TRUE(Present("d")) << "the planted bug's stale entry: the check above can fail";
}

TEST_F(StoredIndexTest, ASourceThatNeverHadAStoredDependentCostsNoSeek) {
  Open();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(cache_->Put("plain" + std::to_string(i), "v").ok());
  PutPair("s", "d");
  ASSERT_TRUE(cache_->Checkpoint().ok());
  Open();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(cache_->Put("plain" + std::to_string(i), "w").ok());
  EXPECT_EQ(cache_->Stats().index_seeks, 0u);
  ASSERT_TRUE(cache_->Put("s", "w").ok());
  EXPECT_EQ(cache_->Stats().index_seeks, 1u);
  EXPECT_FALSE(Present("d"));
  EXPECT_EQ(cache_->Stats().sequencer_store_reads, 0u)
      << "each commit read RocksDB before the sequencer, and no checkpoint came between";
}

// A hot source's stored list is read from RocksDB once; later writes find it in memory.
TEST_F(StoredIndexTest, AHotSourceSeeksTheStoredIndexOnce) {
  Open();
  PutPair("s", "d");
  ASSERT_TRUE(cache_->Checkpoint().ok());
  Open();
  ASSERT_TRUE(cache_->Put("s", "w").ok());
  EXPECT_FALSE(Present("d"));
  const uint64_t misses = cache_->Stats().index_cache_misses;  // s's list, and d's (empty)
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cache_->Put("s", "x" + std::to_string(i)).ok());
  const CacheStats st = cache_->Stats();
  EXPECT_EQ(st.index_seeks, 1u);
  EXPECT_EQ(st.index_cache_misses, misses);
  EXPECT_GE(st.index_cache_hits, 20u);
  EXPECT_GE(st.index_cached_lists, 1u);
}

// A source's list is cached (empty, then with d1); each time, a new dependent's edge goes from
// memory into the store. The next write of the source must find it: the checkpoint dropped the
// cached list.
void CacheTheListThenStoreANewEdge(Cache* cache) {
  Result<uint64_t> s = cache->Put("s", "v");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(cache->Put("d1", "derived", PutOptions{.related = {RelatedKey{"s", *s}}}).ok());
  ASSERT_TRUE(cache->Checkpoint().ok());
  s = cache->Put("s", "w");  // reads and caches s's stored list: d1
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(cache->Put("d2", "derived", PutOptions{.related = {RelatedKey{"s", *s}}}).ok());
  ASSERT_TRUE(cache->Checkpoint().ok());  // s -> d2 leaves memory for the store
  EXPECT_EQ(cache->Stats().index_memory_edges, 0u);
  ASSERT_TRUE(cache->Put("s", "x").ok());
}

TEST_F(StoredIndexTest, ACheckpointDropsTheCachedListsItAddsTo) {
  Open();
  CacheTheListThenStoreANewEdge(cache_.get());
  EXPECT_FALSE(Present("d1"));
  EXPECT_FALSE(Present("d2")) << "the write of s planned with s's list as cached before the "
                                 "checkpoint stored s -> d2";
}

TEST_F(StoredIndexTest, TheCheckIsCaughtWithIndexCacheOutlivesCheckpoint) {
  ASSERT_TRUE(InjectBug("index-cache-outlives-checkpoint").ok());
  Open();
  CacheTheListThenStoreANewEdge(cache_.get());
  // (s's list was first cached empty, before d1: the bug misses d1 already.)
  EXPECT_TRUE(Present("d1") || Present("d2"))
      << "the planted bug's stale entry: the check above can fail";
}

// A commit that read the stored index before the sequencer, then a checkpoint that moves the
// edge it needs from memory into the store before the commit takes the lock: the sequencer must
// see that its reads are out of date and read again (engine/store_prefetch.h).
// `at`: where the write is held while the checkpoint runs.
bool WriteSourceAcrossACheckpoint(Cache* cache, KillPoint at = KillPoint::kEnginePrefetched) {
  checker::AimedHold hold;
  hold.Arm(std::chrono::seconds(30));
  Result<uint64_t> written = Status::Aborted("not run");
  std::thread writer([&] {
    checker::AimedHold::Target target(&hold, at);
    written = cache->Put("s", "w");
  });
  const bool held = hold.WaitHeld(std::chrono::seconds(30));
  if (held) {
    EXPECT_TRUE(cache->Checkpoint().ok());
  }
  hold.Release();
  writer.join();
  EXPECT_TRUE(written.ok()) << written.status().ToString();
  return held;
}

TEST_F(StoredIndexHeldTest, TheSequencerRereadsWhatACheckpointChangedSinceTheCommitRead) {
  Open();
  PutPair("s", "d");  // the edge in memory only; s has no stored dependent yet
  ASSERT_TRUE(WriteSourceAcrossACheckpoint(cache_.get())) << "the commit was never held";
  EXPECT_GE(cache_->Stats().sequencer_store_reads, 1u);
  EXPECT_FALSE(Present("d")) << "the sequencer planned with the index as it was before the "
                                "checkpoint moved the edge";
}

TEST_F(StoredIndexHeldTest, TheCheckIsCaughtWithPrefetchIgnoresCheckpoint) {
  ASSERT_TRUE(InjectBug("prefetch-ignores-checkpoint").ok());
  Open();
  PutPair("s", "d");
  ASSERT_TRUE(WriteSourceAcrossACheckpoint(cache_.get()));
  EXPECT_TRUE(Present("d")) << "the planted bug's stale entry: the check above can fail";
}

// A source's stored list read from RocksDB (s -> d1) and, before it is cached, a checkpoint that
// moves a new edge of s (s -> d2) from memory into the store: the list read is out of date, so it
// must not be cached, or the next plan that asks for s's dependents misses d2 — here the write's
// own plan under the sequencer, which reads again because the checkpoint moved the generation.
TEST_F(StoredIndexHeldTest, AListReadBeforeACheckpointIsNotCached) {
  Open();
  StoreOneEdgeAndKeepOneInMemory();
  ASSERT_TRUE(WriteSourceAcrossACheckpoint(cache_.get(), KillPoint::kEngineIndexRead))
      << "the list read was never held";
  EXPECT_FALSE(Present("d1"));
  EXPECT_FALSE(Present("d2")) << "the list read before the checkpoint stored s -> d2 was cached";
}

TEST_F(StoredIndexHeldTest, TheCheckIsCaughtWithIndexFillIgnoresGeneration) {
  ASSERT_TRUE(InjectBug("index-fill-ignores-generation").ok());
  Open();
  StoreOneEdgeAndKeepOneInMemory();
  ASSERT_TRUE(WriteSourceAcrossACheckpoint(cache_.get(), KillPoint::kEngineIndexRead));
  EXPECT_FALSE(Present("d1"));
  EXPECT_TRUE(Present("d2")) << "the planted bug's stale entry: the check above can fail";
}

// Turns the store back into format 1: no source markers, the old format record.
void MakeFormatOne(const std::string& rocks_path) {
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), rocks_path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  const std::string markers(1, engine::kSourceMarkerPrefix);
  int removed = 0;
  for (it->Seek(markers); it->Valid() && it->key().starts_with(markers); it->Next()) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), it->key()).ok());
    ++removed;
  }
  EXPECT_GT(removed, 0);
  std::string enc;
  PutFixed32(&enc, engine::kStoreFormatWithoutMarkers);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), std::string(engine::kMetaFormat), enc).ok());
}

TEST_F(StoredIndexTest, AFormatOneStoreIsUpgradedAndItsEdgesStillCascade) {
  Open();
  PutPair("s", "d");
  PutPair("t", "e");
  cache_.reset();  // Close checkpoints
  MakeFormatOne(dir_.Join("rocksdb"));

  Open(/*read_only=*/true);  // no upgrade: a read-only open writes nothing
  EXPECT_TRUE(Present("d"));
  Open();
  ASSERT_TRUE(cache_->Put("s", "w").ok());
  EXPECT_FALSE(Present("d")) << "the upgrade wrote s's marker";
  cache_.reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_.Join("rocksdb"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string v;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), std::string(engine::kMetaFormat), &v).ok());
    std::string_view in = v;
    uint32_t format = 0;
    ASSERT_TRUE(GetFixed32(&in, &format));
    EXPECT_EQ(format, engine::kStoreFormatVersion);
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), engine::SourceMarkerKey("t"), &v).ok());
  }
  Open();
  ASSERT_TRUE(cache_->Put("t", "w").ok());
  EXPECT_FALSE(Present("e"));
}

}  // namespace
}  // namespace walcache
