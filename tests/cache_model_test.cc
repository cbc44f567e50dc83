// engine: seeded random histories applied to the Cache and to a plain in-test model of the
// semantics, compared key by key after every reopen — after a clean close, after dying without
// one (fork + _exit), and after a torn WAL tail — and checked for I1 (no entry without its
// sources at exactly the recorded updateIds).
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <random>

#include "tests/child_process.h"
#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

// The semantics, written plainly: entries with related lists; writes invalidate dependents
// transitively; a put's sources must be live at the given ids.
class Model {
 public:
  std::map<std::string, Entry> live;

  // Applies the one-put-with-sources transaction the history generator makes; returns false
  // (no effect) when the cache must refuse it as a conflict.
  bool PutDerived(const std::string& key, const std::string& value,
                  const std::vector<RelatedKey>& related, uint64_t seq) {
    std::map<std::string, Entry> next = live;
    Invalidate(&next, key);
    for (const RelatedKey& r : related) {
      auto it = next.find(r.key);
      if (it == next.end() || it->second.update_id != r.update_id) return false;
    }
    next[key] = Entry{value, seq, 0, related};
    live = std::move(next);
    return true;
  }
  void Delete(const std::string& key) {
    Invalidate(&live, key);
    live.erase(key);
  }

 private:
  static void Invalidate(std::map<std::string, Entry>* m, const std::string& key) {
    std::vector<std::string> todo{key};
    while (!todo.empty()) {
      const std::string s = todo.back();
      todo.pop_back();
      for (auto it = m->begin(); it != m->end();) {
        bool derived = false;
        for (const RelatedKey& r : it->second.related) derived |= r.key == s;
        if (derived && it->first != key) {
          todo.push_back(it->first);
          it = m->erase(it);
        } else {
          ++it;
        }
      }
    }
  }
};

class CacheModelTest : public ::testing::Test {
 protected:
  static constexpr int kKeys = 24;

  Options Opts() {
    Options o;
    o.wal_segment_size = 8 << 10;
    o.durability = Durability::kSync;
    return o;
  }

  // One random step on both the cache and the model.
  void Step(Cache* c, Model* m, std::mt19937_64* rng) {
    const std::string key = "k" + std::to_string((*rng)() % kKeys);
    const int kind = static_cast<int>((*rng)() % 10);
    if (kind < 2) {
      ASSERT_TRUE(c->Delete(key).ok());
      m->Delete(key);
      return;
    }
    std::vector<RelatedKey> related;
    const int n = kind < 5 ? 0 : static_cast<int>((*rng)() % 3) + 1;
    for (int i = 0; i < n; ++i) {
      const std::string src = "k" + std::to_string((*rng)() % kKeys);
      if (src == key) continue;
      auto cur = m->live.find(src);
      // Mostly the right updateId, sometimes a stale or absent source: a conflict.
      uint64_t id = cur != m->live.end() ? cur->second.update_id : 7;
      if ((*rng)() % 8 == 0) id += 1;
      related.push_back({src, id});
    }
    const std::string value = "v" + std::to_string((*rng)());
    auto r = c->Put(key, value, {.related = related});
    if (r.ok()) {
      ASSERT_TRUE(m->PutDerived(key, value, related, *r))
          << "cache accepted what the model refuses";
    } else {
      // A source the put's own cascade removes is a cycle (InvalidArgument); else a conflict.
      ASSERT_TRUE(r.status().IsConflict() ||
                  (r.status().IsInvalidArgument() &&
                   r.status().message().find("a cycle") != std::string::npos))
          << r.status().ToString();
      ASSERT_FALSE(m->PutDerived(key, value, related, UINT64_MAX))
          << "cache refused what the model accepts: " << r.status().ToString();
    }
  }

  void ExpectSame(Cache* c, const Model& m, const std::string& when) {
    std::map<std::string, Entry> scanned;
    ASSERT_TRUE(c->Scan("", [&](std::string_view k, const Entry& e) {
                   scanned.emplace(std::string(k), e);
                   return true;
                 }).ok());
    EXPECT_EQ(scanned.size(), m.live.size()) << when;
    for (const auto& [k, e] : m.live) {
      auto got = c->Get(k);
      ASSERT_TRUE(got.ok()) << when << ": " << k << " " << got.status().ToString();
      EXPECT_EQ(*got, e) << when << ": " << k;
    }
    // I1, without the model: every source of every live entry is live at that updateId.
    for (const auto& [k, e] : scanned) {
      for (const RelatedKey& r : e.related) {
        auto src = scanned.find(r.key);
        ASSERT_TRUE(src != scanned.end()) << when << ": " << k << " outlives " << r.key;
        EXPECT_EQ(src->second.update_id, r.update_id) << when << ": " << k;
      }
    }
  }

  test::ScratchDir dir_;
};

TEST_F(CacheModelTest, RandomHistoriesMatchTheModelAcrossCleanReopensAndCheckpoints) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::ScratchDir dir;
    std::mt19937_64 rng(seed);
    Model m;
    for (int round = 0; round < 4; ++round) {
      auto c = Cache::Open(dir.path(), Opts());
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      ExpectSame(c->get(), m, "after reopen " + std::to_string(round));
      for (int i = 0; i < 150; ++i) {
        Step(c->get(), &m, &rng);
        if (i % 50 == 49) {
          ASSERT_TRUE((*c)->Checkpoint().ok());
        }
      }
      ExpectSame(c->get(), m, "before close " + std::to_string(round));
    }
  }
}

TEST_F(CacheModelTest, RandomHistoryMatchesAfterDyingWithoutCloseAndAfterATornTail) {
  // The child runs the history and dies with _exit; the parent replays the same seeded history
  // on the model (every commit is sync, so everything the child did is durable).
  constexpr int kSteps = 300;
  const test::ChildExit e = test::RunInChild([&]() -> int {
    auto c = Cache::Open(dir_.path(), Opts());
    if (!c.ok()) ::_exit(2);
    std::mt19937_64 rng(99);
    Model m;
    for (int i = 0; i < kSteps; ++i) {
      Step(c->get(), &m, &rng);
      if (::testing::Test::HasFailure()) ::_exit(3);
      if (i == 120 && !(*c)->Checkpoint().ok()) ::_exit(4);
    }
    ::_exit(0);
  });
  ASSERT_TRUE(e.ok()) << e;

  // The model, from the same seed, against a scratch cache that gives the same updateIds.
  test::ScratchDir shadow_dir;
  Model m;
  {
    auto shadow = Cache::Open(shadow_dir.path(), Opts());
    ASSERT_TRUE(shadow.ok());
    std::mt19937_64 rng(99);
    for (int i = 0; i < kSteps; ++i) Step(shadow->get(), &m, &rng);
  }
  {
    auto c = Cache::Open(dir_.path(), Opts());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_GT((*c)->LastRecovery().records_replayed, 0u);
    ExpectSame(c->get(), m, "after _exit");
  }
  // A torn tail: garbage after the last record of the newest segment is dropped, nothing else.
  const auto segs = test::SegmentPaths(dir_.Join("wal"));
  ASSERT_FALSE(segs.empty());
  std::string bytes = test::ReadFile(segs.back());
  const size_t end = bytes.find_last_not_of('\0') + 1;
  test::Overwrite(segs.back(), end, "\x42torn-record-bytes");
  auto c = Cache::Open(dir_.path(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->LastRecovery().tail_bytes_dropped, 18u);
  ExpectSame(c->get(), m, "after torn tail");
}

}  // namespace
}  // namespace walcache
