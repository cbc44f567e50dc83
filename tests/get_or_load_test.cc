// Cache::GetOrLoad (include/walcache/get_or_load.h): one loader run for all the callers missing
// on a key, a fill that stores nothing when a source or the key changed while the loader ran,
// loader errors returned and not cached, no stale fill under writers racing loaders, and no
// waiter handed a load that a write acknowledged before its call had made stale.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "checker/aimed_hold.h"
#include "tests/test_util.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

class GetOrLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Cache::Open(dir_.path(), Options{});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cache_ = std::move(c).value();
  }
  test::ScratchDir dir_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(GetOrLoadTest, AMissLoadsAndStoresWithItsSourcesAndAHitDoesNotLoad) {
  const uint64_t u = *cache_->Put("user:1", "ann");
  int calls = 0;
  Loader render = [&](LoadContext& ctx) -> Result<std::string> {
    ++calls;
    Result<Entry> user = ctx.Get("user:1");
    if (!user.ok()) return user.status();
    return "<h1>" + user->value + "</h1>";
  };
  Result<Loaded> first = cache_->GetOrLoad("page:1", render);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->loaded);
  EXPECT_TRUE(first->stored);
  EXPECT_EQ(first->entry.value, "<h1>ann</h1>");
  EXPECT_EQ(first->entry.related, (std::vector<RelatedKey>{{"user:1", u}}));
  EXPECT_EQ(cache_->Get("page:1")->update_id, first->entry.update_id);
  EXPECT_EQ(first->filled, first->entry.update_id);
  Result<Loaded> second = cache_->GetOrLoad("page:1", render);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->loaded);
  EXPECT_EQ(second->filled, 0u);
  EXPECT_EQ(calls, 1);
  // The fill is an ordinary derived entry: writing its source invalidates it.
  ASSERT_TRUE(cache_->Put("user:1", "bob").ok());
  EXPECT_TRUE(cache_->Get("page:1").status().IsNotFound());
  EXPECT_EQ(cache_->GetOrLoad("page:1", render)->entry.value, "<h1>bob</h1>");
  EXPECT_EQ(calls, 2);
}

TEST_F(GetOrLoadTest, ASourceChangedWhileLoadingMakesItLoadAgain) {
  ASSERT_TRUE(cache_->Put("s", "v1").ok());
  int calls = 0;
  Result<Loaded> r = cache_->GetOrLoad("d", [&](LoadContext& ctx) -> Result<std::string> {
    Result<Entry> s = ctx.Get("s");
    if (!s.ok()) return s.status();
    if (++calls == 1) {
      EXPECT_TRUE(cache_->Put("s", "v2").ok());  // a writer races the load
    }
    return "from " + s->value;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(r->stored);
  EXPECT_EQ(r->entry.value, "from v2");
  EXPECT_EQ(cache_->Get("d")->value, "from v2");
}

TEST_F(GetOrLoadTest, SourcesThatNeverStopChangingGiveTheValueUnstored) {
  ASSERT_TRUE(cache_->Put("s", "0").ok());
  int calls = 0;
  Result<Loaded> r =
      cache_->GetOrLoad("d",
                        [&](LoadContext& ctx) -> Result<std::string> {
                          Result<Entry> s = ctx.Get("s");
                          EXPECT_TRUE(cache_->Put("s", std::to_string(++calls)).ok());
                          return "from " + s->value;
                        },
                        {.max_loads = 4});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(calls, 4);
  EXPECT_TRUE(r->loaded);
  EXPECT_FALSE(r->stored);
  EXPECT_EQ(r->entry.update_id, 0u);
  EXPECT_EQ(r->filled, 0u);
  EXPECT_EQ(r->entry.value, "from 3");
  EXPECT_TRUE(cache_->Get("d").status().IsNotFound());
}

TEST_F(GetOrLoadTest, ALoaderErrorIsReturnedAndNotCached) {
  int calls = 0;
  auto failing = [&](LoadContext&) -> Result<std::string> {
    ++calls;
    return Status::IOError("backend down");
  };
  Result<Loaded> r = cache_->GetOrLoad("d", failing);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsIOError());
  EXPECT_EQ(r.status().message(), "backend down");
  EXPECT_FALSE(cache_->GetOrLoad("d", failing).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(cache_->Get("d").status().IsNotFound());
}

TEST_F(GetOrLoadTest, AValueLoadedFromAnAbsentSourceIsReturnedButNotStored) {
  Result<Loaded> r = cache_->GetOrLoad("d", [&](LoadContext& ctx) -> Result<std::string> {
    EXPECT_TRUE(ctx.Get("missing").status().IsNotFound());
    return std::string("default");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->stored);
  EXPECT_EQ(r->entry.value, "default");
  EXPECT_TRUE(cache_->Get("d").status().IsNotFound());
}

TEST_F(GetOrLoadTest, AKeyWrittenWhileLoadingIsReturnedAndNotOverwritten) {
  Result<Loaded> r = cache_->GetOrLoad("d", [&](LoadContext&) -> Result<std::string> {
    EXPECT_TRUE(cache_->Put("d", "written").ok());
    return std::string("loaded");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stored);
  EXPECT_EQ(r->entry.value, "written");
  EXPECT_EQ(cache_->Get("d")->value, "written");
}

TEST_F(GetOrLoadTest, ALoaderLoadingItsOwnKeyIsRefusedNotDeadlocked) {
  Status inner;
  Result<Loaded> r = cache_->GetOrLoad("d", [&](LoadContext&) -> Result<std::string> {
    inner = cache_
                ->GetOrLoad(
                    "d", [](LoadContext&) -> Result<std::string> { return std::string("never"); })
                .status();
    return std::string("outer");
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entry.value, "outer");
  EXPECT_TRUE(inner.IsInvalidArgument()) << inner.ToString();
  EXPECT_TRUE(
      cache_->GetOrLoad("", [](LoadContext&) -> Result<std::string> { return std::string(); })
          .status()
          .IsInvalidArgument());
  EXPECT_TRUE(cache_
                  ->GetOrLoad("x",
                              [](LoadContext&) -> Result<std::string> { return std::string(); },
                              {.max_loads = 0})
                  .status()
                  .IsInvalidArgument());
}

TEST_F(GetOrLoadTest, TheTtlAppliesAndIsClampedToTheSources) {
  ASSERT_TRUE(cache_->Put("s", "v", {.ttl_ms = 60'000}).ok());
  Result<Loaded> r = cache_->GetOrLoad(
      "d", [&](LoadContext& ctx) -> Result<std::string> { return ctx.Get("s")->value; },
      {.ttl_ms = 3'600'000});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entry.expires_at, cache_->Get("s")->expires_at);
}

// Many threads miss on the same key at once: the loader runs once, all get its value.
TEST_F(GetOrLoadTest, ConcurrentMissesOnOneKeyRunTheLoaderOnce) {
  ASSERT_TRUE(cache_->Put("s", "v").ok());
  constexpr int kThreads = 12;
  std::atomic<int> calls{0}, arrived{0};
  Loader slow = [&](LoadContext& ctx) -> Result<std::string> {
    calls++;
    // Wait (bounded) for the others to arrive, so that they find the load in flight.
    for (int i = 0; i < 200 && arrived.load() < kThreads; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return "from " + ctx.Get("s")->value;
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      arrived++;
      Result<Loaded> r = cache_->GetOrLoad("d", slow);
      if (r.ok() && r->entry.value == "from v" && r->stored) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(ok.load(), kThreads);
}

// Writers change sources while loaders fill entries derived from them: no fill may store a
// value computed from a source state other than the one its related updateId names.
TEST_F(GetOrLoadTest, NoStaleFillUnderRacingWriters) {
  constexpr int kKeys = 8;
  auto src = [](int i) { return "s" + std::to_string(i); };
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(cache_->Put(src(i), "0").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> loads{0};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int n = 1; !stop.load(); ++n) (void)cache_->Put(src(n % kKeys), std::to_string(n));
  });
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 300; ++n) {
        const int i = (n + t) % kKeys;
        Result<Loaded> r = cache_->GetOrLoad("d" + std::to_string(i),
                                             [&](LoadContext& ctx) -> Result<std::string> {
                                               loads++;
                                               Result<Entry> s = ctx.Get(src(i));
                                               if (!s.ok()) return s.status();
                                               std::this_thread::yield();
                                               return "f(" + s->value + ")";
                                             });
        EXPECT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (size_t t = 1; t < threads.size(); ++t) threads[t].join();
  stop = true;
  threads[0].join();
  // Every stored fill names the source updateId whose value it was computed from.
  Result<Snapshot> snap = cache_->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  int stored = 0;
  ASSERT_TRUE(snap->Scan("d",
                         [&](std::string_view key, const Entry& e) {
                           EXPECT_EQ(e.related.size(), 1u);
                           Result<Entry> s = snap->Get(e.related[0].key);
                           EXPECT_TRUE(s.ok());
                           EXPECT_EQ(s->update_id, e.related[0].update_id) << key;
                           EXPECT_EQ(e.value, "f(" + s->value + ")") << key;
                           ++stored;
                           return true;
                         })
                  .ok());
  EXPECT_GT(loads.load(), 0);
  RecordProperty("stored", stored);
}

// A caller that waits for a load which began before a write it came after: the leader's fill
// of 'd' (from s = "a") is committed and read back, and held at engine.fill_read_back; then
// s = "b" is written (acknowledged: d's fill is invalidated); then a follower misses on 'd' and
// joins the load still in flight. Returns the value the follower got, or nullopt if it did not
// join (its own loader ran before the leader let go: the scheduler missed the window).
std::optional<std::string> FollowerAfterAWrite(Cache* c, const std::string& d) {
  const std::string s = d + ".src";
  EXPECT_TRUE(c->Put(s, "a").ok());
  auto from_source = [&](LoadContext& ctx) -> Result<std::string> {
    Result<Entry> e = ctx.Get(s);
    if (!e.ok()) return e.status();
    return "from-" + e->value;
  };
  checker::AimedHold hold;
  hold.Arm(std::chrono::seconds(30));
  std::thread leader([&] {
    checker::AimedHold::Target target(&hold, KillPoint::kEngineFillReadBack);
    (void)c->GetOrLoad(d, from_source);
  });
  if (!hold.WaitHeld(std::chrono::seconds(30))) {
    hold.Release();
    leader.join();
    ADD_FAILURE() << "the leader's fill never reached engine.fill_read_back";
    return std::nullopt;
  }
  EXPECT_TRUE(c->Put(s, "b").ok());  // acknowledged: 'd' derived from "a" is invalidated
  std::atomic<bool> released{false}, loaded_early{false};
  Result<Loaded> got = Status::NotFound("not run");
  std::thread follower([&] {
    got = c->GetOrLoad(d, [&](LoadContext& ctx) -> Result<std::string> {
      if (!released.load()) loaded_early = true;  // it led a load of its own
      return from_source(ctx);
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it miss and join
  released = true;
  hold.Release();
  leader.join();
  follower.join();
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (!got.ok() || loaded_early.load()) return std::nullopt;
  return got->entry.value;
}

class GetOrLoadHeldTest : public GetOrLoadTest {
 protected:
  void SetUp() override {
    GetOrLoadTest::SetUp();
    previous_ = SetKillPointHandler(&checker::AimedHold::AtKillPoint);
  }
  void TearDown() override {
    (void)SetKillPointHandler(previous_);
    (void)InjectBug("");
  }
  KillPointHandler previous_ = nullptr;
};

// The follower must not get the value derived from "a": it began after "b" was acknowledged.
TEST_F(GetOrLoadHeldTest, AWaiterNeverGetsALoadThatAWriteBeforeItMadeStale) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<std::string> v = FollowerAfterAWrite(cache_.get(), "d" + std::to_string(attempt));
    if (!v.has_value()) continue;  // it did not join the load; stage it again
    EXPECT_EQ(*v, "from-b");
    return;
  }
  GTEST_SKIP() << "the follower never joined the held load in 5 attempts";
}

// ... and with the planted bug follower-takes-stale-load it does: the staging can fail.
TEST_F(GetOrLoadHeldTest, TheStaleWaiterIsCaughtWithItsPlantedBug) {
  ASSERT_TRUE(InjectBug("follower-takes-stale-load").ok());
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<std::string> v = FollowerAfterAWrite(cache_.get(), "d" + std::to_string(attempt));
    if (!v.has_value()) continue;
    EXPECT_EQ(*v, "from-a") << "the planted bug should hand the waiter the stale load";
    return;
  }
  GTEST_SKIP() << "the follower never joined the held load in 5 attempts";
}

}  // namespace
}  // namespace walcache
