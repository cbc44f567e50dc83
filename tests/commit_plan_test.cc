// The commit planner (engine/commit_plan.h) as the pure function it is: transactions planned
// against a state held in a map, with no cache, WAL or RocksDB. Every shape of issue 12's bug 1
// (dependencies created inside a transaction not invalidated by its later ops) is here at the
// planner's level; tests/cache_txn_order_test.cc checks the same through the public API.
#include "engine/commit_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace walcache::engine {
namespace {

using Op = Transaction::Op;
using Kind = Op::Kind;

constexpr uint64_t kNow = 1'000'000;
constexpr uint64_t kSeq = 100;

Op Put(std::string key, std::vector<RelatedKey> related = {}, uint64_t ttl_ms = 0) {
  return Op{Kind::kPut, std::move(key), "v", ttl_ms, 0, std::move(related)};
}
Op Simple(Kind kind, std::string key, uint64_t ttl_ms = 0, uint64_t update_id = 0) {
  return Op{kind, std::move(key), {}, ttl_ms, update_id, {}};
}

// The installed state, and a reverse index over it that may hold stale edges on purpose.
class CommitPlanTest : public ::testing::Test {
 protected:
  void Install(const std::string& key, uint64_t update_id, std::vector<RelatedKey> related = {},
               uint64_t expires_at = 0) {
    for (const RelatedKey& r : related) index_[r.key].push_back(key);
    state_[key] = Entry{"old", update_id, expires_at, std::move(related)};
  }
  Result<CommitPlan> Plan(const std::vector<Op>& ops, StaleEdges* stale = nullptr) {
    PlanReads reads{[this](const std::string& key) -> Result<std::optional<Entry>> {
                      auto it = state_.find(key);
                      if (it == state_.end() || ExpiredAt(it->second, kNow)) {
                        return std::optional<Entry>();
                      }
                      return std::optional<Entry>(it->second);
                    },
                    [this](const std::string& source) -> Result<std::vector<std::string>> {
                      auto it = index_.find(source);
                      return it == index_.end() ? std::vector<std::string>() : it->second;
                    }};
    return PlanCommit(ops, kSeq, kNow, reads, stale);
  }
  static bool Removed(const CommitPlan& p, const std::string& key) {
    auto it = p.effects.find(key);
    return it != p.effects.end() && !it->second.has_value();
  }
  static uint64_t ExpiresAt(const CommitPlan& p, const std::string& key) {
    auto it = p.effects.find(key);
    EXPECT_TRUE(it != p.effects.end() && it->second.has_value()) << key;
    return it != p.effects.end() && it->second.has_value() ? it->second->expires_at : 0;
  }

  std::map<std::string, Entry> state_;
  std::map<std::string, std::vector<std::string>> index_;
};

TEST_F(CommitPlanTest, ADeleteOrInvalidateOfASourceRemovesWhatThisTransactionDerivedFromIt) {
  for (Kind k : {Kind::kDelete, Kind::kInvalidate}) {
    Result<CommitPlan> p = Plan({Put("s"), Put("d", {{"s", 0}}), Simple(k, "s")});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_TRUE(Removed(*p, "s"));
    EXPECT_TRUE(Removed(*p, "d")) << "d stayed, derived from an absent s";
    EXPECT_EQ(p->invalidated, 1u);
  }
}

TEST_F(CommitPlanTest, ATouchOfASourceClampsWhatThisTransactionDerivedFromIt) {
  Result<CommitPlan> p = Plan({Put("s"), Put("d", {{"s", 0}}), Simple(Kind::kTouch, "s", 100)});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ExpiresAt(*p, "s"), kNow + 100);
  EXPECT_EQ(ExpiresAt(*p, "d"), kNow + 100) << "d outlives its source";
}

TEST_F(CommitPlanTest, ARewriteOfASourceCascadesThroughAnEdgeThisTransactionMade) {
  Install("s2", 5);
  Install("d0", 6, {{"s2", 5}});
  Result<CommitPlan> p = Plan({Put("x", {{"d0", 6}}), Put("s2")});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(Removed(*p, "d0"));
  EXPECT_TRUE(Removed(*p, "x")) << "x derives from d0, which s2's write invalidated";
  EXPECT_EQ(p->invalidated, 2u);
}

TEST_F(CommitPlanTest, ASecondPutOfASourceRemovesWhatDerivedFromTheFirst) {
  Result<CommitPlan> p = Plan({Put("s"), Put("d", {{"s", 0}}), Put("s")});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(Removed(*p, "d"));
}

TEST_F(CommitPlanTest, AFirstDerivationFromAnInstalledSourceDiesWithItsRewrite) {
  Install("s", 7);
  Result<CommitPlan> p = Plan({Put("d", {{"s", 7}}), Put("s")});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(Removed(*p, "d")) << "d, derived from the old s, would be served beside the new";
}

TEST_F(CommitPlanTest, AStaleExpectationOrRelatedUpdateIdIsAConflictThatPlansNothing) {
  Install("s", 7);
  Result<CommitPlan> p = Plan({Simple(Kind::kExpect, "s", 0, 6), Put("x")});
  EXPECT_TRUE(p.status().IsConflict()) << p.status().ToString();
  p = Plan({Put("d", {{"s", 6}})});
  EXPECT_TRUE(p.status().IsConflict()) << p.status().ToString();
  p = Plan({Simple(Kind::kExpectAbsent, "s")});
  EXPECT_TRUE(p.status().IsConflict()) << p.status().ToString();
}

TEST_F(CommitPlanTest, ACycleInsideATransactionIsInvalid) {
  Install("a", 1);
  Install("b", 2, {{"a", 1}});
  // b derives from a; a now names b: a's write invalidates b, which a then needs.
  Result<CommitPlan> p = Plan({Put("a", {{"b", 2}})});
  EXPECT_TRUE(p.status().IsInvalidArgument()) << p.status().ToString();
}

TEST_F(CommitPlanTest, StaleEdgesAreReportedAndNothingIsCascadedThroughThem) {
  Install("s", 1);
  Install("d", 2);      // no longer derives from s...
  index_["s"] = {"d"};  // ...but the index still says so
  StaleEdges stale;
  Result<CommitPlan> p = Plan({Put("s")}, &stale);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->effects.count("d")) << "d is untouched";
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0], std::make_pair(std::string("s"), std::string("d")));
}

TEST_F(CommitPlanTest, ATransactionThatChangesNothingPlansAnEmptyBatch) {
  Result<CommitPlan> p =
      Plan({Simple(Kind::kTouch, "absent", 100), Simple(Kind::kExpectAbsent, "x")});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->batch.empty());
}

}  // namespace
}  // namespace walcache::engine
