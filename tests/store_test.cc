// engine/entry and engine/rocks_store: the entry codec, and the RocksDB store that a checkpoint
// changes atomically together with its checkpoint sequence; the reverse index; expiry by
// compaction filter; read-only opens and format versions.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <set>

#include "engine/entry.h"
#include "engine/rocks_store.h"
#include "engine/store_keys.h"
#include "tests/test_util.h"
#include "util/coding.h"

namespace walcache::engine {
namespace {

Entry MakeEntry(std::string value, uint64_t update_id, uint64_t expires_at = 0,
                std::vector<wal::RelatedKey> related = {}) {
  return Entry{std::move(value), update_id, expires_at, std::move(related)};
}

TEST(EntryTest, RoundTripsAndRejectsEveryTruncation) {
  const Entry e = MakeEntry(std::string("v\0al", 4), 42, 1700000000000, {{"user:1", 41}, {"", 0}});
  std::string enc;
  EncodeEntry(e, &enc);
  auto back = DecodeEntry(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, e);
  uint64_t expires = 0;
  ASSERT_TRUE(PeekExpiresAt(enc, &expires));
  EXPECT_EQ(expires, 1700000000000u);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_TRUE(DecodeEntry(std::string_view(enc.data(), n)).status().IsCorruption()) << n;
  }
  EXPECT_TRUE(DecodeEntry(enc + "x").status().IsCorruption());
  EXPECT_TRUE(ExpiredAt(e, 1700000000000));
  EXPECT_FALSE(ExpiredAt(e, 1699999999999));
  EXPECT_FALSE(ExpiredAt(MakeEntry("", 1), UINT64_MAX)) << "0 means never";
}

class StoreTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.Join("rocksdb"); }
  StoreOptions Options() {
    StoreOptions o;
    o.now_ms = [this] { return now_ms_.load(); };
    return o;
  }
  std::unique_ptr<RocksStore> OpenStore() {
    auto s = RocksStore::Open(path(), Options());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // A closed store with one entry, compacted into a table file.
  void MakeCompactedStore() {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    RocksStore::Checkpoint cp;
    cp.Put("k", MakeEntry("v", 1));
    ASSERT_TRUE(store->Apply(std::move(cp), 1, 0).ok());
    ASSERT_TRUE(store->CompactAll().ok());
  }

  test::ScratchDir dir_;
  std::atomic<uint64_t> now_ms_{1000};
};

TEST_F(StoreTest, NewStoreIsEmptyAtSequenceZero) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_seq(), 0u);
  auto got = store->Get("missing");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(StoreTest, CheckpointAppliesEntriesIndexAndSequenceTogetherAndSurvivesReopen) {
  {
    auto store = OpenStore();
    RocksStore::Checkpoint cp;
    cp.Put("user:1", MakeEntry("alice", 7));
    cp.Put("profile:1", MakeEntry("<html>", 8, 0, {{"user:1", 7}}));
    cp.AddDependent("user:1", "profile:1");
    cp.Put("gone", MakeEntry("x", 3));
    EXPECT_EQ(cp.ops(), 4u);
    ASSERT_TRUE(store->Apply(std::move(cp), 8, 0).ok());
    RocksStore::Checkpoint cp2;
    cp2.Delete("gone");
    ASSERT_TRUE(store->Apply(std::move(cp2), 9, 0).ok());
    EXPECT_EQ(store->checkpoint_seq(), 9u);
  }
  auto store = OpenStore();
  EXPECT_EQ(store->checkpoint_seq(), 9u);
  auto profile = store->Get("profile:1");
  ASSERT_TRUE(profile.ok() && profile->has_value());
  EXPECT_EQ(**profile, MakeEntry("<html>", 8, 0, {{"user:1", 7}}));
  EXPECT_FALSE(store->Get("gone")->has_value());
  auto deps = store->Dependents("user:1");
  ASSERT_TRUE(deps.ok());
  EXPECT_EQ(*deps, std::vector<std::string>{"profile:1"});
  EXPECT_TRUE(store->Dependents("user:10")->empty()) << "prefix of another source's key";
}

TEST_F(StoreTest, OlderCheckpointSequenceIsRefusedAndChangesNothing) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Apply(RocksStore::Checkpoint(), 10, 0).ok());
  RocksStore::Checkpoint cp;
  cp.Put("k", MakeEntry("v", 5));
  EXPECT_TRUE(store->Apply(std::move(cp), 9, 0).IsInvalidArgument());
  EXPECT_EQ(store->checkpoint_seq(), 10u);
  EXPECT_FALSE(store->Get("k")->has_value());
}

TEST_F(StoreTest, DependentsOfSourcesThatPrefixEachOtherStayApart) {
  auto store = OpenStore();
  RocksStore::Checkpoint cp;
  cp.AddDependent("a", "x");
  cp.AddDependent("ab", "y");
  cp.AddDependent("a", "z");
  ASSERT_TRUE(store->Apply(std::move(cp), 1, 0).ok());
  EXPECT_EQ(*store->Dependents("a"), (std::vector<std::string>{"x", "z"}));
  EXPECT_EQ(*store->Dependents("ab"), std::vector<std::string>{"y"});
  RocksStore::Checkpoint rm;
  rm.RemoveDependent("a", "x");
  ASSERT_TRUE(store->Apply(std::move(rm), 2, 0).ok());
  EXPECT_EQ(*store->Dependents("a"), std::vector<std::string>{"z"});
}

TEST_F(StoreTest, ScanVisitsPrefixInKeyOrderAndStopsWhenAsked) {
  auto store = OpenStore();
  RocksStore::Checkpoint cp;
  for (const char* k : {"user:2", "user:1", "usex", "use", "user:3"}) cp.Put(k, MakeEntry(k, 1));
  cp.AddDependent("user:1", "user:2");  // index keys are never visited as entries
  ASSERT_TRUE(store->Apply(std::move(cp), 1, 0).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->Scan("user:",
                         [&](std::string_view k, const Entry& e) {
                           EXPECT_EQ(e.value, k);
                           seen.emplace_back(k);
                           return seen.size() < 2;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"user:1", "user:2"}));
  seen.clear();
  ASSERT_TRUE(store
                  ->Scan("",
                         [&](std::string_view k, const Entry&) {
                           seen.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(StoreTest, CompactionDropsOnlyEntriesExpiredByTheCheckpointsHorizon) {
  auto store = OpenStore();
  RocksStore::Checkpoint cp;
  cp.Put("expired", MakeEntry("x", 1, 1500));
  cp.Put("future", MakeEntry("y", 1, 5000));
  cp.Put("forever", MakeEntry("z", 1, 0));
  cp.AddDependent("expired", "future");
  ASSERT_TRUE(store->Apply(std::move(cp), 1, /*expiry_horizon_ms=*/1000).ok());
  EXPECT_EQ(store->expiry_horizon(), 1000u);
  ASSERT_TRUE(store->CompactAll().ok());
  EXPECT_TRUE(store->Get("expired")->has_value()) << "not yet expired at the horizon";
  // The clock alone never drops it: a WAL record after the checkpoint may still touch it.
  now_ms_ = 2000;
  ASSERT_TRUE(store->CompactAll().ok());
  EXPECT_TRUE(store->Get("expired")->has_value()) << "expired by the clock, not the horizon";
  ASSERT_TRUE(store->Apply(RocksStore::Checkpoint(), 2, 2000).ok());
  ASSERT_TRUE(store->Apply(RocksStore::Checkpoint(), 3, 1200).ok());
  EXPECT_EQ(store->expiry_horizon(), 2000u) << "a horizon never goes back";
  ASSERT_TRUE(store->CompactAll().ok());
  EXPECT_FALSE(store->Get("expired")->has_value());
  EXPECT_TRUE(store->Get("future")->has_value());
  EXPECT_TRUE(store->Get("forever")->has_value());
  EXPECT_EQ(store->Dependents("expired")->size(), 1u) << "index and metadata are not filtered";
  EXPECT_EQ(store->checkpoint_seq(), 3u);
}

TEST_F(StoreTest, ReadOnlyOpenReadsButRefusesCheckpoints) {
  {
    auto store = OpenStore();
    RocksStore::Checkpoint cp;
    cp.Put("k", MakeEntry("v", 4));
    ASSERT_TRUE(store->Apply(std::move(cp), 4, 0).ok());
  }
  StoreOptions o = Options();
  o.read_only = true;
  auto store = RocksStore::Open(path(), o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->checkpoint_seq(), 4u);
  EXPECT_EQ((*(*store)->Get("k"))->value, "v");
  EXPECT_TRUE((*store)->Apply(RocksStore::Checkpoint(), 5, 0).IsAborted());
}

TEST_F(StoreTest, MissingStoreOpenedReadOnlyIsAnErrorNamingThePath) {
  StoreOptions o = Options();
  o.read_only = true;
  auto store = RocksStore::Open(path(), o);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path()), std::string::npos) << store.status().ToString();
}

// RocksDB would take the directory for a new store: write a fresh MANIFEST and CURRENT, and at the
// next open start empty and delete the old tables.
TEST_F(StoreTest, MissingCurrentOverExistingDataRefusesAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeCompactedStore());
  ASSERT_TRUE(std::filesystem::remove(path() + "/CURRENT"));
  auto listing = [&] {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path())) {
      if (!e.path().filename().string().starts_with("LOG")) names.insert(e.path().filename());
    }
    return names;
  };
  const std::set<std::string> before = listing();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto s = RocksStore::Open(path(), Options());
    ASSERT_TRUE(s.status().IsCorruption()) << s.status().ToString();
    EXPECT_NE(s.status().message().find(path() + "/CURRENT is missing"), std::string::npos)
        << s.status().ToString();
    EXPECT_EQ(listing(), before);
  }
}

// RocksDB blames the MANIFEST for a table file whose footer is garbage; the error names the table.
TEST_F(StoreTest, GarbledTableFileIsNamedWhenTheOpenFails) {
  ASSERT_NO_FATAL_FAILURE(MakeCompactedStore());
  std::string table;
  for (const auto& e : std::filesystem::directory_iterator(path())) {
    if (e.path().extension() == ".sst") table = e.path().string();
  }
  ASSERT_FALSE(table.empty());
  test::WriteFile(table, std::string(test::FileSize(table), '\x5a'));
  for (const bool read_only : {false, true}) {
    StoreOptions o = Options();
    o.read_only = read_only;
    auto s = RocksStore::Open(path(), o);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(table + " does not open as a table"), std::string::npos)
        << s.status().ToString();
  }
}

TEST_F(StoreTest, OtherFormatVersionIsNotSupported) {
  OpenStore().reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path(), &raw).ok());
    std::string enc;
    PutFixed32(&enc, kStoreFormatVersion + 1);
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), std::string(kMetaFormat), enc).ok());
    delete raw;
  }
  auto store = RocksStore::Open(path(), Options());
  ASSERT_TRUE(store.status().IsNotSupported()) << store.status().ToString();
  EXPECT_NE(store.status().message().find("version " + std::to_string(kStoreFormatVersion + 1)),
            std::string::npos)
      << store.status().ToString();
}

}  // namespace
}  // namespace walcache::engine
