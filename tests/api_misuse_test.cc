// SPDX-License-Identifier: Apache-2.0
// api_misuse_test: the public API's guards against the mistakes users make — a Transaction or
// KeyLock that outlives its Cache, Commit() twice, a moved-from Transaction — and the documented
// error codes and updateId use of every call (empty keys, absent keys for Touch and Delete),
// Result's operator bool and value_or, PutOptions' designated initializers under -Wextra.
//
// Built with -Wmissing-field-initializers on (unlike the other suites), so a PutOptions member
// without a default initializer breaks the build. Single-threaded but for the test that destroys
// a Cache while a commit runs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <type_traits>
#include <vector>

#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

class ApiMisuseTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> OpenCache(Options o = {}) {
    o.sync_interval = std::chrono::milliseconds(5);
    auto c = Cache::Open(dir_.path(), o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  test::ScratchDir dir_;
};

TEST_F(ApiMisuseTest, CommitOfATransactionThatOutlivedItsCacheIsAbortedNotACrash) {
  auto c = OpenCache();
  Transaction t = c->Begin();
  t.Put("k", "v");
  c.reset();
  auto r = t.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsAborted()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("destroyed"), std::string::npos) << r.status().ToString();
  // Nothing was written: the reopened cache has no "k".
  c = OpenCache();
  EXPECT_TRUE(c->Get("k").status().IsNotFound());
}

TEST_F(ApiMisuseTest, ATransactionOfAnEarlierCacheOnTheSameDirectoryStaysAborted) {
  auto c = OpenCache();
  Transaction t = c->Begin();
  c.reset();
  c = OpenCache();  // a new Cache on the same directory does not revive the old transaction
  t.Put("k", "v");
  EXPECT_TRUE(t.Commit().status().IsAborted());
  EXPECT_TRUE(c->Get("k").status().IsNotFound());
}

TEST_F(ApiMisuseTest, KeyLockReleasedAfterItsCacheIsDestroyedIsANoOp) {
  auto c = OpenCache();
  KeyLock held = c->Lock("k");
  KeyLock released = c->Lock("j");
  EXPECT_TRUE(held.held());
  c.reset();
  EXPECT_FALSE(held.held());
  Status s = released.Unlock();
  EXPECT_TRUE(s.IsAborted()) << s.ToString();
  EXPECT_TRUE(released.Unlock().IsInvalidArgument());  // and it holds nothing any more
  // `held` is destroyed at the end of the scope, after the Cache: no use of freed memory (the
  // ASan build checks).
}

TEST_F(ApiMisuseTest, KeyLockUnlockReleasesOnceAndTheKeyCanBeLockedAgain) {
  auto c = OpenCache();
  KeyLock a = c->Lock("k");
  ASSERT_TRUE(a.Unlock().ok());
  EXPECT_FALSE(a.held());
  EXPECT_TRUE(a.Unlock().IsInvalidArgument());
  KeyLock b = c->Lock("k");  // would block forever had Unlock not released it
  EXPECT_TRUE(b.held());
  KeyLock moved = std::move(b);
  EXPECT_FALSE(b.held());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_TRUE(b.Unlock().IsInvalidArgument());
  EXPECT_TRUE(moved.held());
}

TEST_F(ApiMisuseTest, MoveAssigningAKeyLockReleasesTheLockItHeld) {
  auto c = OpenCache();
  KeyLock a = c->Lock("a");
  a = c->Lock("b");  // "a" is released here
  std::atomic<bool> got{false};
  std::thread t([&] {
    KeyLock again = c->Lock("a");
    got = true;
  });
  t.join();
  EXPECT_TRUE(got);
}

TEST_F(ApiMisuseTest, DestroyingTheCacheWaitsForCommitsRunningOnOtherThreads) {
  auto c = OpenCache();
  constexpr int kThreads = 4;
  std::vector<Transaction> txns;
  for (int i = 0; i < kThreads; ++i) {
    txns.push_back(c->Begin());
    txns.back().Put("k" + std::to_string(i), "v");
  }
  std::vector<Result<uint64_t>> results(kThreads, Status::Aborted("not run"));
  std::atomic<int> started{0};
  std::vector<std::thread> committers;
  for (int i = 0; i < kThreads; ++i) {
    committers.emplace_back([&, i] {
      started++;
      results[i] = txns[i].Commit();  // only the Transaction is used on this thread
    });
  }
  while (started < kThreads) std::this_thread::yield();
  c.reset();  // races the commits: each runs wholly before the destructor, or is Aborted
  for (std::thread& t : committers) t.join();
  c = OpenCache();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok() || results[i].status().IsAborted())
        << results[i].status().ToString();
    // Acknowledged commits survived the close; aborted ones wrote nothing.
    EXPECT_EQ(c->Get("k" + std::to_string(i)).ok(), results[i].ok()) << i;
  }
}

TEST_F(ApiMisuseTest, SecondCommitOfOneTransactionIsAnErrorAndAppliesNothing) {
  auto c = OpenCache();
  Transaction t = c->Begin();
  t.Put("counter", "1");
  t.Invalidate("other");
  auto first = t.Commit();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const uint64_t last = c->Stats().last_seq;
  const uint64_t commits = c->Stats().commits;
  auto second = t.Commit();
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsInvalidArgument()) << second.status().ToString();
  EXPECT_NE(second.status().message().find("already committed"), std::string::npos);
  EXPECT_EQ(c->Stats().last_seq, last);  // no updateId consumed, no record
  EXPECT_EQ(c->Stats().commits, commits);
  EXPECT_EQ(c->Get("counter")->update_id, *first);
}

TEST_F(ApiMisuseTest, OpsAddedAfterCommitAreIgnoredAndStillCannotCommit) {
  auto c = OpenCache();
  Transaction t = c->Begin();
  t.Put("a", "1");
  ASSERT_TRUE(t.Commit().ok());
  t.Put("b", "2");
  EXPECT_TRUE(t.Commit().status().IsInvalidArgument());
  EXPECT_TRUE(c->Get("b").status().IsNotFound());
}

TEST_F(ApiMisuseTest, AFailedCommitSpendsTheTransactionToo) {
  auto c = OpenCache();
  Transaction t = c->Begin();
  t.Expect("absent", 7);
  t.Put("a", "1");
  EXPECT_TRUE(t.Commit().status().IsConflict());
  auto again = t.Commit();
  EXPECT_TRUE(again.status().IsInvalidArgument()) << again.status().ToString();
  EXPECT_TRUE(c->Get("a").status().IsNotFound());
}

TEST_F(ApiMisuseTest, AMovedFromTransactionCannotCommit) {
  auto c = OpenCache();
  Transaction a = c->Begin();
  a.Put("a", "1");
  Transaction b = std::move(a);
  a.Put("x", "1");  // NOLINT(bugprone-use-after-move): defined, ignored
  auto r = a.Commit();
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  ASSERT_TRUE(b.Commit().ok());
  EXPECT_TRUE(c->Get("a").ok());
  EXPECT_TRUE(c->Get("x").status().IsNotFound());
}

TEST_F(ApiMisuseTest, EmptyKeysAreInvalidArgumentForWritesAndNotFoundForGet) {
  auto c = OpenCache();
  const uint64_t before = c->Stats().last_seq;
  EXPECT_TRUE(c->Put("", "v").status().IsInvalidArgument());
  EXPECT_TRUE(c->Delete("").status().IsInvalidArgument());
  EXPECT_TRUE(c->Touch("", 10).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"", 1}}}).status().IsInvalidArgument());
  Transaction t = c->Begin();
  t.Expect("", 1);
  EXPECT_TRUE(t.Commit().status().IsInvalidArgument());
  EXPECT_EQ(c->Stats().last_seq, before);  // none consumed an updateId
  EXPECT_TRUE(c->Get("").status().IsNotFound());
}

TEST_F(ApiMisuseTest, DeleteOfAnAbsentKeySucceedsAndConsumesAnUpdateId) {
  auto c = OpenCache();
  const uint64_t before = c->Stats().last_seq;
  auto d = c->Delete("never-written");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, before + 1);
  EXPECT_EQ(c->Stats().last_seq, before + 1);
  Transaction t = c->Begin();
  t.Invalidate("never-written-either");
  auto i = t.Commit();
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(*i, before + 2);
}

TEST_F(ApiMisuseTest, TouchOfAnAbsentKeyWritesNothingAndReturnsTheNewestUpdateId) {
  auto c = OpenCache();
  const uint64_t a = *c->Put("a", "1");
  auto t = c->Touch("absent", 1000);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, a);  // the newest visible updateId; none consumed
  EXPECT_EQ(c->Stats().last_seq, a);
  EXPECT_TRUE(c->Get("absent").status().IsNotFound());
  auto live = c->Touch("a", 1000);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, a + 1);               // a live key: a new updateId
  EXPECT_EQ(c->Get("a")->update_id, a);  // Touch changes the expiry, not the entry's updateId
}

TEST_F(ApiMisuseTest, ATransactionOfOnlyExpectationsConsumesNoUpdateId) {
  auto c = OpenCache();
  const uint64_t a = *c->Put("a", "1");
  Transaction t = c->Begin();
  t.Expect("a", a);
  t.ExpectAbsent("b");
  auto r = t.Commit();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, a);
  EXPECT_EQ(c->Stats().last_seq, a);
}

TEST_F(ApiMisuseTest, LimitsAreInvalidArgumentAndConsumeNothing) {
  Options o;
  o.max_key_size = 8;
  o.max_value_size = 16;
  o.max_related = 2;
  auto c = OpenCache(o);
  ASSERT_TRUE(c->Put("s1", "x").ok());
  ASSERT_TRUE(c->Put("s2", "x").ok());
  ASSERT_TRUE(c->Put("s3", "x").ok());
  const uint64_t before = c->Stats().last_seq;
  EXPECT_TRUE(c->Put("123456789", "v").status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", std::string(17, 'v')).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"s1", 1}, {"s2", 2}, {"s3", 3}}})
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.related = {{"k", 0}}}).status().IsInvalidArgument());
  EXPECT_TRUE(c->Put("k", "v", {.ttl_ms = UINT64_MAX}).status().IsInvalidArgument());
  EXPECT_EQ(c->Stats().last_seq, before);
}

TEST_F(ApiMisuseTest, ReadOnlyCacheAbortsWrites) {
  { auto c = OpenCache(); }
  Options o;
  o.read_only = true;
  auto c = OpenCache(o);
  EXPECT_TRUE(c->Put("k", "v").status().IsAborted());
  EXPECT_TRUE(c->Checkpoint().IsAborted());
}

TEST_F(ApiMisuseTest, PutOptionsDesignatedInitializersNameAnySubset) {
  // Compiled with -Wmissing-field-initializers -Werror: each line would fail the build if a
  // member lacked a default.
  const PutOptions ttl_only{.ttl_ms = 5};
  const PutOptions related_only{.related = {{"s", 1}}};
  const PutOptions both{.ttl_ms = 5, .related = {{"s", 1}}};
  EXPECT_EQ(ttl_only.related.size(), 0u);
  EXPECT_EQ(related_only.ttl_ms, 0u);
  EXPECT_EQ(both.related.at(0), (RelatedKey{"s", 1}));
}

TEST(ResultTest, ExplicitBoolIsOk) {
  const Result<int> good = 3;
  const Result<int> bad = Status::NotFound("k");
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_FALSE(static_cast<bool>(bad));
  const Result<bool> false_value = false;
  EXPECT_TRUE(static_cast<bool>(false_value));  // ok(), not the value
  static_assert(!std::is_convertible_v<Result<int>, bool>, "explicit only");
}

TEST(ResultTest, ValueOrGivesTheValueOrTheFallbackWithoutAborting) {
  const Result<std::string> good = std::string("v");
  const Result<std::string> bad = Status::NotFound("k");
  EXPECT_EQ(good.value_or("fallback"), "v");
  EXPECT_EQ(bad.value_or("fallback"), "fallback");
  Result<std::string> movable = std::string("moved");
  EXPECT_EQ(std::move(movable).value_or(""), "moved");
  const Result<Entry> miss = Status::NotFound("k");
  EXPECT_EQ(miss.value_or(Entry{}).update_id, 0u);
}

TEST(ResultDeathTest, ValueOfAnErrorAbortsNamingTheStatus) {
  const Result<int> bad = Status::NotFound("the-key");
  EXPECT_DEATH((void)bad.value(), "value\\(\\) of an error Result: NotFound: the-key");
}

}  // namespace
}  // namespace walcache
