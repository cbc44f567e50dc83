// Read snapshots (include/walcache/snapshot.h, engine/snapshots.h): a snapshot shows exactly
// the state at its updateId and instant — through later commits, checkpoints, evictions,
// compactions and the expiry filter — and readers racing writers always find a derived entry
// and its sources at matching updateIds through one snapshot. Scan is a snapshot of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

std::unique_ptr<Cache> OpenCache(const std::string& dir, Options o = {}) {
  auto c = Cache::Open(dir, o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

std::string ValueOf(const Snapshot& s, const std::string& key) {
  Result<Entry> e = s.Get(key);
  if (!e.ok()) return e.status().IsNotFound() ? "<absent>" : e.status().ToString();
  return e->value;
}

TEST(SnapshotTest, ShowsTheStateAtItsUpdateIdAndNoLaterCommit) {
  test::ScratchDir dir;
  auto cache = OpenCache(dir.path());
  ASSERT_TRUE(cache->Put("a", "a1").ok());
  ASSERT_TRUE(cache->Put("b", "b1").ok());
  Result<Snapshot> snap = cache->GetSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->update_id(), cache->Stats().last_seq);
  ASSERT_TRUE(cache->Put("a", "a2").ok());
  ASSERT_TRUE(cache->Delete("b").ok());
  ASSERT_TRUE(cache->Put("c", "c1").ok());
  EXPECT_EQ(ValueOf(*snap, "a"), "a1");
  EXPECT_EQ(ValueOf(*snap, "b"), "b1");
  EXPECT_EQ(ValueOf(*snap, "c"), "<absent>");
  EXPECT_EQ(cache->Get("a")->value, "a2");
  Result<std::vector<std::optional<Entry>>> many = snap->MultiGet({"c", "a", "b"});
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 3u);
  EXPECT_FALSE((*many)[0].has_value());
  EXPECT_EQ((*many)[1]->value, "a1");
  EXPECT_EQ((*many)[2]->value, "b1");
  std::vector<std::string> seen;
  ASSERT_TRUE(snap->Scan("",
                         [&](std::string_view k, const Entry& e) {
                           seen.push_back(std::string(k) + "=" + e.value);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a=a1", "b=b1"}));
}

// The versions a snapshot reads must survive the checkpoint that writes newer ones to RocksDB,
// the eviction a small budget forces after it, and a full compaction.
TEST(SnapshotTest, OutlivesCheckpointsEvictionAndCompaction) {
  test::ScratchDir dir;
  Options o;
  o.memory_budget_bytes = 64 << 10;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  auto cache = OpenCache(dir.path(), o);
  constexpr int kKeys = 300;
  auto key = [](int i) { return "k" + std::to_string(i); };
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(cache->Put(key(i), "old" + std::to_string(i)).ok());
  ASSERT_TRUE(cache->Checkpoint().ok());  // half in RocksDB only: the budget holds ~150
  for (int i = 0; i < kKeys / 2; ++i)
    ASSERT_TRUE(cache->Put(key(i), "mid" + std::to_string(i)).ok());
  Result<Snapshot> snap = cache->GetSnapshot();  // its view holds "old"; memory "mid"
  ASSERT_TRUE(snap.ok());
  for (int i = 0; i < kKeys; ++i) {
    if (i % 3 == 0) {
      ASSERT_TRUE(cache->Delete(key(i)).ok());
    } else {
      ASSERT_TRUE(cache->Put(key(i), "new" + std::to_string(i)).ok());
    }
  }
  ASSERT_TRUE(cache->Checkpoint().ok());
  for (int i = 0; i < kKeys; ++i) (void)cache->Get("other" + std::to_string(i));  // misses
  ASSERT_TRUE(cache->Compact().ok());
  for (int i = 0; i < kKeys; ++i) {
    const std::string want = (i < kKeys / 2 ? "mid" : "old") + std::to_string(i);
    ASSERT_EQ(ValueOf(*snap, key(i)), want) << key(i);
  }
  int n = 0;
  ASSERT_TRUE(snap->Scan("k",
                         [&](std::string_view, const Entry& e) {
                           n += e.value.starts_with("new") ? 1000 : 1;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(n, kKeys);
  EXPECT_EQ(ValueOf(*cache->GetSnapshot(), key(1)), "new1");
  EXPECT_EQ(ValueOf(*cache->GetSnapshot(), key(0)), "<absent>");
}

// Closing a snapshot gives its memory back: after the next checkpoint the budget holds again.
TEST(SnapshotTest, ClosingItLetsMemoryShrinkToTheBudget) {
  test::ScratchDir dir;
  Options o;
  o.memory_budget_bytes = 64 << 10;
  auto cache = OpenCache(dir.path(), o);
  const std::string big(500, 'v');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache->Put("k" + std::to_string(i), big).ok());
  {
    Result<Snapshot> snap = cache->GetSnapshot();
    ASSERT_TRUE(snap.ok());
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache->Put("k" + std::to_string(i), big).ok());
      ASSERT_TRUE(cache->Checkpoint().ok());
    }
    for (int i = 0; i < 100; ++i) {
      Result<Entry> e = snap->Get("k" + std::to_string(i));
      ASSERT_TRUE(e.ok());
      EXPECT_EQ(e->update_id, static_cast<uint64_t>(i + 1));
    }
  }
  ASSERT_TRUE(cache->Put("k0", big).ok());
  ASSERT_TRUE(cache->Checkpoint().ok());
  for (int i = 0; i < 300; ++i) (void)cache->Get("miss" + std::to_string(i));
  ASSERT_TRUE(cache->Put("k1", big).ok());  // an Add evicts what is over
  EXPECT_LE(cache->Stats().memory_bytes, o.memory_budget_bytes + (8 << 10));
}

// Expiry is decided at the snapshot's instant, and the expiry filter may not drop what it shows.
TEST(SnapshotTest, DecidesExpiryAtItsInstantEvenAfterTheFilterRan) {
  test::ScratchDir dir;
  auto now = std::make_shared<std::atomic<uint64_t>>(1'000'000);
  Options o;
  o.clock_ms = [now] { return now->load(); };
  auto cache = OpenCache(dir.path(), o);
  ASSERT_TRUE(cache->Put("s", "s1", {.ttl_ms = 100}).ok());
  ASSERT_TRUE(cache->Put("d", "d1", {.ttl_ms = 100, .related = {{"s", 1}}}).ok());
  ASSERT_TRUE(cache->Checkpoint().ok());  // both in RocksDB
  Result<Snapshot> snap = cache->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  now->fetch_add(10'000);
  EXPECT_TRUE(cache->Get("s").status().IsNotFound());
  ASSERT_TRUE(cache->Put("x", "x").ok());
  ASSERT_TRUE(cache->Compact().ok());  // a checkpoint with a horizon past the TTL, then the filter
  ASSERT_TRUE(cache->Put("y", "y").ok());
  ASSERT_TRUE(cache->Compact().ok());
  EXPECT_EQ(ValueOf(*snap, "s"), "s1");
  EXPECT_EQ(ValueOf(*snap, "d"), "d1");
  EXPECT_EQ(ValueOf(*snap, "x"), "<absent>");
  // A snapshot taken now sees them expired.
  EXPECT_EQ(ValueOf(*cache->GetSnapshot(), "s"), "<absent>");
}

TEST(SnapshotTest, OutlivingItsCacheOrBeingMovedFromIsAborted) {
  test::ScratchDir dir;
  auto cache = OpenCache(dir.path());
  ASSERT_TRUE(cache->Put("a", "1").ok());
  Result<Snapshot> snap = cache->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  Snapshot moved = std::move(snap).value();
  EXPECT_EQ(ValueOf(moved, "a"), "1");
  cache.reset();
  EXPECT_TRUE(moved.Get("a").status().IsAborted());
  EXPECT_TRUE(moved.Scan("", [](std::string_view, const Entry&) { return true; }).IsAborted());
  // Reopening works: the snapshot's RocksDB view went with the first Cache.
  cache = OpenCache(dir.path());
  EXPECT_EQ(cache->Get("a")->value, "1");
}

// Close() with a snapshot open ends it cleanly: RocksDB closes without an error (its views were
// released first), and the snapshot's reads are Aborted.
TEST(SnapshotTest, CloseWithASnapshotOpenEndsItAndReportsNoError) {
  test::ScratchDir dir;
  auto cache = OpenCache(dir.path());
  ASSERT_TRUE(cache->Put("a", "1").ok());
  ASSERT_TRUE(cache->Checkpoint().ok());
  Result<Snapshot> snap = cache->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(cache->Put("a", "2").ok());
  const Status closed = cache->Close();
  EXPECT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_TRUE(snap->Get("a").status().IsAborted());
  EXPECT_TRUE(cache->GetSnapshot().status().IsAborted());
  EXPECT_TRUE(cache->MultiGet({"a"}).status().IsAborted());
}

// Writers commit sources with entries derived from them, and re-derive them; readers, through
// one snapshot each, must find every derived entry's sources at exactly its related updateIds —
// while checkpoints and a small budget move entries between memory and RocksDB.
TEST(SnapshotTest, DerivedEntriesMatchTheirSourcesUnderConcurrentWrites) {
  test::ScratchDir dir;
  Options o;
  o.durability = Durability::kBuffered;
  o.memory_budget_bytes = 32 << 10;
  o.checkpoint_dirty_bytes = 8 << 10;
  auto cache = OpenCache(dir.path(), o);
  constexpr int kSources = 200;
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, checked{0};
  auto src = [](int i) { return "s" + std::to_string(i); };
  auto der = [](int i) { return "d" + std::to_string(i); };
  // Filled first, over the budget: most pairs start out in RocksDB only.
  for (int i = 0; i < kSources; ++i) {
    Transaction t = cache->Begin();
    t.Put(src(i), std::string(200, 's'));
    t.Put(der(i), std::string(200, 'd'), {.related = {{src(i), 0}}});
    ASSERT_TRUE(t.Commit().ok());
  }
  ASSERT_TRUE(cache->Checkpoint().ok());
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; !stop.load(); ++n) {
        const int i = (n * 7 + w * 13) % kSources;
        Transaction t = cache->Begin();
        t.Put(src(i), std::string(64, static_cast<char>('a' + n % 26)));
        t.Put(der(i), "from " + std::to_string(n), {.related = {{src(i), 0}}});
        if (i > 0) t.Put(der(i - 1) + "x", "both", {.related = {{src(i), 0}, {src(i - 1), 0}}});
        (void)t.Commit();
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) (void)cache->Checkpoint();
  });
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        Result<Snapshot> snap = cache->GetSnapshot();
        if (!snap.ok()) {
          violations++;
          continue;
        }
        Status s = snap->Scan("d", [&](std::string_view key, const Entry& e) {
          for (const RelatedKey& rk : e.related) {
            Result<Entry> source = snap->Get(rk.key);
            if (!source.ok() || source->update_id != rk.update_id) {
              ADD_FAILURE() << key << " derives from " << rk.key << "@" << rk.update_id
                            << " but the snapshot at " << snap->update_id() << " shows "
                            << (source.ok() ? std::to_string(source->update_id) : "none");
              violations++;
            }
          }
          checked++;
          return true;
        });
        if (!s.ok()) violations++;
      }
    });
  }
  while (checked.load() < 20'000 || cache->Stats().checkpoints < 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(cache->Stats().evictions, 0u);
}

TEST(SnapshotTest, ScanIsASnapshot) {
  test::ScratchDir dir;
  auto cache = OpenCache(dir.path());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(cache->Put("p" + std::to_string(i), "0").ok());
  // The visitor commits transactions that change every key; the scan shows none of them.
  int visited = 0;
  ASSERT_TRUE(cache
                  ->Scan("p",
                         [&](std::string_view key, const Entry& e) {
                           EXPECT_EQ(e.value, "0") << key;
                           Transaction t = cache->Begin();
                           for (int i = 0; i < 50; ++i) t.Put("p" + std::to_string(i), "1");
                           t.Put("p999", "new");
                           EXPECT_TRUE(t.Commit().ok());
                           ++visited;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(visited, 50);
}

}  // namespace
}  // namespace walcache
