// engine: the Cache end to end — updateIds, related keys and cascading invalidation in one
// atomic transaction, optimistic expectations, TTL clamping, checkpoints and WAL truncation,
// recovery after a clean close and after dying without one, the directory lock, limits.
#include "walcache/cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "tests/child_process.h"
#include "tests/test_util.h"

namespace walcache {
namespace {

Durability t_durability(int i) { return i % 2 == 0 ? Durability::kSync : Durability::kBuffered; }

class CacheTest : public ::testing::Test {
 protected:
  Options Opts() {
    Options o;
    o.clock_ms = [this] { return now_.load(); };
    o.sync_interval = std::chrono::milliseconds(5);
    return o;
  }
  std::unique_ptr<Cache> OpenCache(Options o) {
    auto c = Cache::Open(dir_.path(), o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  std::unique_ptr<Cache> OpenCache() { return OpenCache(Opts()); }

  test::ScratchDir dir_;
  std::atomic<uint64_t> now_{1'000'000};
};

TEST_F(CacheTest, PutGetCarriesTheTransactionsUpdateId) {
  auto c = OpenCache();
  auto a = c->Put("a", "1");
  auto b = c->Put("b", "2");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(*a, *b);
  auto e = c->Get("a");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "1");
  EXPECT_EQ(e->update_id, *a);
  EXPECT_TRUE(c->Get("missing").status().IsNotFound());
  auto d = c->Delete("a");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(c->Get("a").status().IsNotFound());
}

TEST_F(CacheTest, DerivedEntryNeedsItsSourceAtExactlyThatUpdateId) {
  auto c = OpenCache();
  const uint64_t u = *c->Put("user:1", "alice");
  auto stale = c->Put("profile:1", "<p>", {.related = {{"user:1", u + 100}}});
  ASSERT_TRUE(stale.status().IsConflict()) << stale.status().ToString();
  EXPECT_TRUE(c->Get("profile:1").status().IsNotFound()) << "a conflict writes nothing";
  auto absent = c->Put("profile:1", "<p>", {.related = {{"nobody", 1}}});
  EXPECT_TRUE(absent.status().IsConflict());
  auto ok = c->Put("profile:1", "<p>", {.related = {{"user:1", u}}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto p = c->Get("profile:1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->related, (std::vector<RelatedKey>{{"user:1", u}}));
}

TEST_F(CacheTest, WritingASourceInvalidatesDerivedEntriesTransitivelyInTheSameTransaction) {
  auto c = OpenCache();
  const uint64_t u = *c->Put("user:1", "alice");
  const uint64_t p = *c->Put("profile:1", "<p>", {.related = {{"user:1", u}}});
  const uint64_t f = *c->Put("feed:1", "[..]", {.related = {{"profile:1", p}}});
  ASSERT_TRUE(c->Put("other", "x", {.related = {{"user:1", u}}}).ok());
  ASSERT_TRUE(c->Get("feed:1").ok());
  const uint64_t u2 = *c->Put("user:1", "alice2");
  EXPECT_GT(u2, f);
  EXPECT_TRUE(c->Get("profile:1").status().IsNotFound());
  EXPECT_TRUE(c->Get("feed:1").status().IsNotFound()) << "derived from a derived entry";
  EXPECT_TRUE(c->Get("other").status().IsNotFound());
  EXPECT_EQ(c->Stats().invalidations, 3u);
  // Deleting works the same way.
  const uint64_t p2 = *c->Put("profile:1", "<p2>", {.related = {{"user:1", u2}}});
  (void)p2;
  ASSERT_TRUE(c->Delete("user:1").ok());
  EXPECT_TRUE(c->Get("profile:1").status().IsNotFound());
}

TEST_F(CacheTest, SourceAndDerivedInOneTransactionShareItsUpdateId) {
  auto c = OpenCache();
  Transaction t = c->Begin();
  t.Put("user:1", "alice");
  t.Put("profile:1", "<p>", {.related = {{"user:1", 0}}});
  t.Put("card:1", "<c>", {.related = {{"user:1", 0}, {"profile:1", 0}}});
  auto id = t.Commit();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(c->Get("user:1")->update_id, *id);
  EXPECT_EQ(c->Get("card:1")->related,
            (std::vector<RelatedKey>{{"user:1", *id}, {"profile:1", *id}}));
  Transaction bad = c->Begin();
  bad.Put("x", "1", {.related = {{"not-written-here", 0}}});
  EXPECT_TRUE(bad.Commit().status().IsConflict());
}

TEST_F(CacheTest, ExpectationsGiveOptimisticConcurrency) {
  auto c = OpenCache();
  const uint64_t u = *c->Put("k", "1");
  Transaction t1 = c->Begin();
  t1.Expect("k", u);
  t1.Put("k", "2");
  ASSERT_TRUE(t1.Commit().ok());
  Transaction t2 = c->Begin();
  t2.Expect("k", u);  // stale now
  t2.Put("k", "3");
  t2.Put("side-effect", "x");
  EXPECT_TRUE(t2.Commit().status().IsConflict());
  EXPECT_EQ(c->Get("k")->value, "2");
  EXPECT_TRUE(c->Get("side-effect").status().IsNotFound());
  Transaction t3 = c->Begin();
  t3.ExpectAbsent("new");
  t3.Put("new", "n");
  ASSERT_TRUE(t3.Commit().ok());
  Transaction t4 = c->Begin();
  t4.ExpectAbsent("new");
  EXPECT_TRUE(t4.Commit().status().IsConflict());
  EXPECT_EQ(c->Stats().conflicts, 2u);
}

TEST_F(CacheTest, TtlExpiresAndDerivedEntriesNeverOutliveSources) {
  auto c = OpenCache();
  const uint64_t u = *c->Put("src", "s", {.ttl_ms = 1000});
  ASSERT_TRUE(c->Put("dep", "d", {.ttl_ms = 5000, .related = {{"src", u}}}).ok());
  EXPECT_EQ(c->Get("dep")->expires_at, now_ + 1000) << "clamped to the source's expiry";
  // Touch shortens the source: the dependent follows; lengthening does not extend it.
  ASSERT_TRUE(c->Touch("src", 500).ok());
  EXPECT_EQ(c->Get("src")->expires_at, now_ + 500);
  EXPECT_EQ(c->Get("dep")->expires_at, now_ + 500);
  EXPECT_EQ(c->Get("src")->update_id, u) << "a touch does not change the updateId";
  ASSERT_TRUE(c->Touch("src", 10000).ok());
  EXPECT_EQ(c->Get("dep")->expires_at, now_ + 500);
  now_ += 600;
  EXPECT_TRUE(c->Get("dep").status().IsNotFound());
  EXPECT_TRUE(c->Get("src").ok());
  now_ += 20000;
  EXPECT_TRUE(c->Get("src").status().IsNotFound());
  // An expired source is absent for every purpose.
  EXPECT_TRUE(c->Put("x", "y", {.related = {{"src", u}}}).status().IsConflict());
}

TEST_F(CacheTest, LimitsAreInvalidArgumentAndWriteNothing) {
  Options o = Opts();
  o.max_key_size = 8;
  o.max_value_size = 16;
  o.max_related = 1;
  auto c = OpenCache(o);
  EXPECT_TRUE(c->Put("", "v").status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("123456789", "v").status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", std::string(17, 'v')).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"a", 1}, {"b", 1}}}).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"k", 1}}}).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"", 1}}}).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"123456789", 1}}}).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.ttl_ms = UINT64_MAX}).status().IsInvalidArgument());
  EXPECT_TRUE(c->Touch("k", UINT64_MAX / 2).status().IsInvalidArgument());
  // One bad op fails the whole transaction before anything is logged.
  Transaction t = c->Begin();
  t.Put("good", "v");
  t.Put("bad", std::string(17, 'v'));
  EXPECT_TRUE(t.Commit().status().IsInvalidArgument());
  EXPECT_TRUE(c->Get("good").status().IsNotFound());
  EXPECT_EQ(c->Stats().commits, 0u);
  EXPECT_EQ(c->Stats().last_seq, 0u);
}

TEST_F(CacheTest, ACycleOfRelatedKeysIsInvalidArgumentAndWritesNothing) {
  auto c = OpenCache();
  const uint64_t a = *c->Put("a", "1");
  const uint64_t b = *c->Put("b", "2", {.related = {{"a", a}}});
  // a would derive from b, which derives from a.
  Result<uint64_t> r = c->Put("a", "3", {.related = {{"b", b}}});
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("cycle"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(c->Get("a")->update_id, a);
  EXPECT_EQ(c->Get("b")->update_id, b);
  // Longer: c <- b <- a, then a <- c.
  const uint64_t cc = *c->Put("c", "4", {.related = {{"b", b}}});
  r = c->Put("a", "5", {.related = {{"c", cc}}});
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_EQ(c->Stats().last_seq, cc);
  // A source that is simply stale is still a conflict, not a cycle.
  EXPECT_TRUE(c->Put("x", "6", {.related = {{"a", a + 100}}}).status().IsConflict());
}

TEST_F(CacheTest, SecondOpenOfTheDirectoryIsBusyAndNamesIt) {
  auto c = OpenCache();
  auto again = Cache::Open(dir_.path(), Opts());
  ASSERT_TRUE(again.status().IsBusy()) << again.status().ToString();
  EXPECT_NE(again.status().message().find(dir_.path()), std::string::npos);
  EXPECT_NE(again.status().message().find("pid " + std::to_string(::getpid())), std::string::npos);
  c.reset();
  EXPECT_TRUE(Cache::Open(dir_.path(), Opts()).ok());
}

TEST_F(CacheTest, CheckpointMovesStateToRocksDbAndDeletesCoveredSegments) {
  Options o = Opts();
  o.wal_segment_size = 16 << 10;
  o.compression = false;
  auto c = OpenCache(o);
  const std::string value(1000, 'v');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c->Put("k" + std::to_string(i % 10), value).ok());
  ASSERT_GT(test::SegmentPaths(dir_.Join("wal")).size(), 3u);
  ASSERT_TRUE(c->Checkpoint().ok());
  const CacheStats s = c->Stats();
  EXPECT_EQ(s.checkpoint_seq, s.last_seq);
  EXPECT_EQ(s.dirty_entries, 0u);
  EXPECT_GT(s.wal_segments_deleted, 0u);
  EXPECT_LE(test::SegmentPaths(dir_.Join("wal")).size(), 2u);
  ASSERT_TRUE(c->Put("after", "x").ok());
  c.reset();
  c = OpenCache(o);
  EXPECT_EQ(c->Get("k3")->value, value);
  EXPECT_EQ(c->Get("after")->value, "x");
}

TEST_F(CacheTest, ScanMergesMemoryOverRocksDb) {
  auto c = OpenCache();
  for (const char* k : {"p:1", "p:2", "p:3", "q:1"}) ASSERT_TRUE(c->Put(k, k).ok());
  ASSERT_TRUE(c->Checkpoint().ok());
  ASSERT_TRUE(c->Delete("p:2").ok());  // only in memory: hides RocksDB's p:2
  ASSERT_TRUE(c->Put("p:1", "new").ok());
  ASSERT_TRUE(c->Put("p:0", "zero").ok());
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE(c->Scan("p:", [&](std::string_view k, const Entry& e) {
                 seen.emplace_back(k, e.value);
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"p:0", "zero"}, {"p:1", "new"}, {"p:3", "p:3"}}));
}

TEST_F(CacheTest, ReopenAfterDyingWithoutCloseRecoversEveryAcknowledgedCommit) {
  // The child commits, reports each acknowledged updateId through a pipe, and _exits.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  test::Child child([&]() -> int {
    ::close(fds[0]);
    Options o;
    o.wal_segment_size = 8 << 10;
    auto c = Cache::Open(dir_.path(), o);
    if (!c.ok()) ::_exit(2);
    for (int i = 0; i < 200; ++i) {
      Transaction t = (*c)->Begin();
      t.Put("src:" + std::to_string(i % 7), std::to_string(i));
      t.Put("dep:" + std::to_string(i % 7), "d" + std::to_string(i),
            {.related = {{"src:" + std::to_string(i % 7), 0}}});
      auto id = t.Commit();
      if (!id.ok()) ::_exit(3);
      if (i == 100 && !(*c)->Checkpoint().ok()) ::_exit(4);
      const uint64_t v = *id;
      (void)!::write(fds[1], &v, sizeof(v));
    }
    ::_exit(0);  // no close, no final checkpoint
  });
  ::close(fds[1]);
  std::vector<uint64_t> acked;
  uint64_t v = 0;
  while (::read(fds[0], &v, sizeof(v)) == sizeof(v)) acked.push_back(v);
  ::close(fds[0]);
  const test::ChildExit e = child.Wait();
  ASSERT_TRUE(e.ok()) << e;
  ASSERT_EQ(acked.size(), 200u);

  auto c = OpenCache();
  const RecoveryInfo info = c->LastRecovery();
  EXPECT_GT(info.checkpoint_seq, 0u);
  EXPECT_GT(info.records_replayed, 0u);
  EXPECT_EQ(info.last_seq, acked.back());
  for (int k = 0; k < 7; ++k) {
    // The last commit that touched src:k / dep:k.
    const int i = 199 - ((199 - k) % 7);
    auto src = c->Get("src:" + std::to_string(k));
    auto dep = c->Get("dep:" + std::to_string(k));
    ASSERT_TRUE(src.ok() && dep.ok()) << k;
    EXPECT_EQ(src->value, std::to_string(i));
    EXPECT_EQ(src->update_id, acked[i]);
    EXPECT_EQ(dep->related, (std::vector<RelatedKey>{{"src:" + std::to_string(k), acked[i]}}));
  }
  EXPECT_EQ(c->Stats().last_seq, acked.back());
}

TEST_F(CacheTest, EightThreadsIncrementingWithExpectLoseNoUpdate) {
  auto c = OpenCache();
  ASSERT_TRUE(c->Put("counter", "0").ok());
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        while (true) {
          auto cur = c->Get("counter");
          ASSERT_TRUE(cur.ok());
          Transaction txn = c->Begin();
          txn.Expect("counter", cur->update_id);
          txn.Put("counter", std::to_string(std::stoi(cur->value) + 1));
          txn.Put("derived", "x", {.related = {{"counter", 0}}});
          auto r = txn.Commit(t_durability(i));
          if (r.ok()) {
            successes++;
            break;
          }
          ASSERT_TRUE(r.status().IsConflict()) << r.status().ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(successes.load(), 320);
  EXPECT_EQ(c->Get("counter")->value, "320");
  EXPECT_EQ(c->Get("derived")->related[0].update_id, c->Get("counter")->update_id);
}

}  // namespace
}  // namespace walcache
