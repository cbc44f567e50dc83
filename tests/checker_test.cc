// checker/: the model against hand-written histories, each verifier on hand-made bad states
// (and on correct ones), the pipe protocol, and the crash test end to end — a short mixed run
// with no violation, and every planted bug caught.
#include <gtest/gtest.h>

#include <algorithm>

#include "checker/crash_test.h"
#include "checker/lockstep.h"
#include "checker/model.h"
#include "checker/protocol.h"
#include "checker/verify.h"
#include "tests/test_util.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"

namespace walcache::checker {
namespace {

TxnOp Put(std::string key, std::string value, std::vector<RelatedKey> related = {},
          uint64_t ttl = 0) {
  return TxnOp{TxnOp::kPut, std::move(key), std::move(value), ttl, 0, std::move(related)};
}
TxnOp Del(std::string key) { return TxnOp{TxnOp::kDelete, std::move(key), {}, 0, 0, {}}; }
TxnOp Expect(std::string key, uint64_t id) {
  return TxnOp{TxnOp::kExpect, std::move(key), {}, 0, id, {}};
}
TxnOp Touch(std::string key, uint64_t ttl) {
  return TxnOp{TxnOp::kTouch, std::move(key), {}, ttl, 0, {}};
}
Txn T(uint64_t id, std::vector<TxnOp> ops, bool sync = true) {
  return Txn{id, 0, sync, std::move(ops)};
}

TEST(CheckerModelTest, WritingASourceInvalidatesDerivedEntriesTransitively) {
  State s;
  ASSERT_EQ(Apply(T(1, {Put("s", "a")}), 1, &s), Outcome::kApplied);
  ASSERT_EQ(Apply(T(2, {Put("d", "b", {{"s", 1}})}), 2, &s), Outcome::kApplied);
  ASSERT_EQ(Apply(T(3, {Put("e", "c", {{"d", 2}})}), 3, &s), Outcome::kApplied);
  ASSERT_EQ(s.size(), 3u);
  ASSERT_EQ(Apply(T(4, {Put("s", "a2")}), 4, &s), Outcome::kApplied);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.at("s").update_id, 4u);
}

TEST(CheckerModelTest, StaleRelatedAndFailedExpectationsConflictWithoutEffect) {
  State s;
  ASSERT_EQ(Apply(T(1, {Put("s", "a")}), 1, &s), Outcome::kApplied);
  const State before = s;
  EXPECT_EQ(Apply(T(2, {Put("x", "1"), Put("d", "b", {{"s", 7}})}), 2, &s), Outcome::kConflict);
  EXPECT_EQ(Apply(T(3, {Put("x", "1"), Expect("s", 9)}), 2, &s), Outcome::kConflict);
  EXPECT_EQ(s, before);
  // update_id 0: the source written earlier in the same transaction.
  EXPECT_EQ(Apply(T(4, {Put("s", "b"), Put("d", "c", {{"s", 0}})}), 2, &s), Outcome::kApplied);
  EXPECT_EQ(s.at("d").related[0].update_id, 2u);
}

TEST(CheckerModelTest, ExpiryIsClampedToSourcesAndTouchesOfAbsentKeysWriteNothing) {
  State s;
  ASSERT_EQ(Apply(T(1, {Put("s", "a", {}, 1000)}), 1, &s), Outcome::kApplied);
  ASSERT_EQ(Apply(T(2, {Put("d", "b", {{"s", 1}})}), 2, &s), Outcome::kApplied);
  EXPECT_EQ(s.at("d").expires_at, 1000u);
  ASSERT_EQ(Apply(T(3, {Put("t", "c")}), 3, &s), Outcome::kApplied);
  ASSERT_EQ(Apply(T(4, {Put("u", "d", {{"t", 3}})}), 4, &s), Outcome::kApplied);
  EXPECT_EQ(s.at("u").expires_at, 0u);
  ASSERT_EQ(Apply(T(5, {Touch("t", 1000)}), 5, &s), Outcome::kApplied);
  EXPECT_EQ(s.at("u").expires_at, 1000u);
  EXPECT_EQ(s.at("t").update_id, 3u);  // a touch keeps the updateId
  EXPECT_EQ(Apply(T(6, {Touch("nope", 5)}), 6, &s), Outcome::kEmpty);
}

TEST(CheckerVerifyTest, I1FindsAnEntryWhoseSourceMovedOrVanished) {
  State ok;
  ok["s"] = ModelEntry{"a", 1, 0, {}};
  ok["d"] = ModelEntry{"b", 2, 0, {{"s", 1}}};
  EXPECT_TRUE(CheckRelated(ok).empty());
  State moved = ok;
  moved["s"].update_id = 3;
  ASSERT_EQ(CheckRelated(moved).size(), 1u);
  EXPECT_EQ(CheckRelated(moved)[0].invariant, "I1");
  State gone = ok;
  gone.erase("s");
  ASSERT_EQ(CheckRelated(gone).size(), 1u);
  EXPECT_NE(CheckRelated(gone)[0].detail.find("absent"), std::string::npos);
}

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_.intents[10] = T(10, {Put("a", "1"), Put("b", "1")});
    p_.intents[11] = T(11, {Put("c", "1")}, /*sync=*/false);
    p_.intents[12] = T(12, {Put("a", "2")});  // in flight at the death
    p_.acked[10] = 1;
  }
  State After(std::vector<std::pair<uint64_t, uint64_t>> history) {  // (txn, update_id)
    State s;
    for (auto [id, uid] : history) EXPECT_EQ(Apply(p_.intents.at(id), uid, &s), Outcome::kApplied);
    return s;
  }
  Pending p_;
};

TEST_F(ReconcileTest, AcknowledgedHistoryIsExplained) {
  p_.acked[11] = 2;
  EXPECT_TRUE(Reconcile({}, 0, p_, After({{10, 1}, {11, 2}}), 2).violations.empty());
}

TEST_F(ReconcileTest, AnInFlightTransactionMayHaveCommittedInAGap) {
  p_.acked[11] = 3;  // update_id 2 went to txn 12, whose ack was lost with the child
  Reconciled r = Reconcile({}, 0, p_, After({{10, 1}, {12, 2}, {11, 3}}), 3);
  EXPECT_TRUE(r.violations.empty()) << r.violations[0].detail;
  EXPECT_EQ(r.committed_in_flight, std::vector<uint64_t>{12});
}

TEST_F(ReconcileTest, LosingABufferedTailIsAPrefixButLosingASyncCommitIsI3) {
  p_.acked[11] = 2;  // buffered: a power loss may take it back with what follows it
  p_.power_lost = true;
  EXPECT_TRUE(Reconcile({}, 0, p_, After({{10, 1}}), 1).violations.empty());
  p_.intents[11].sync = true;
  Reconciled r = Reconcile({}, 0, p_, After({{10, 1}}), 1);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "I3");
}

TEST_F(ReconcileTest, ABufferedCommitSurvivesAProcessDeathWithoutPowerLoss) {
  p_.acked[11] = 2;  // it reached the OS: only a power loss may take it back
  Reconciled r = Reconcile({}, 0, p_, After({{10, 1}}), 1);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "I3");
  EXPECT_NE(r.violations[0].detail.find("buffered"), std::string::npos);
}

// Txn 12 (sync, never acknowledged) was seen by a reader at update_id 2.
TEST_F(ReconcileTest, AReadTransactionThatRecoveryLostIsAVisibilityViolation) {
  p_.reads.push_back(Read{"a", 2, 12, 0});
  p_.power_lost = true;
  EXPECT_TRUE(Reconcile({}, 0, p_, After({{10, 1}, {12, 2}}), 2).violations.empty());
  Reconciled r = Reconcile({}, 0, p_, After({{10, 1}}), 1);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "visibility");
  EXPECT_NE(r.violations[0].detail.find("a reader saw 'a' at update_id 2"), std::string::npos)
      << r.violations[0].detail;
  // Buffered, it was visible once it reached the OS: a power loss may take it back, a process
  // death may not.
  p_.intents[12].sync = false;
  EXPECT_TRUE(Reconcile({}, 0, p_, After({{10, 1}}), 1).violations.empty());
  p_.power_lost = false;
  r = Reconcile({}, 0, p_, After({{10, 1}}), 1);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "visibility");
}

TEST_F(ReconcileTest, AReadPinsWhereAnInFlightTransactionCommitted) {
  // 12 and 13 are in flight and both could sit at update_id 2 or 3; a reader saw 13 at 2.
  p_.intents[13] = T(13, {Put("e", "1")});
  p_.reads.push_back(Read{"e", 2, 13, 0});
  EXPECT_TRUE(Reconcile({}, 0, p_, After({{10, 1}, {13, 2}, {12, 3}}), 3).violations.empty());
  Reconciled r = Reconcile({}, 0, p_, After({{10, 1}, {12, 2}, {13, 3}}), 3);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "visibility");
  EXPECT_NE(r.violations[0].detail.find("recovery has it at update_id 3"), std::string::npos)
      << r.violations[0].detail;
}

TEST_F(ReconcileTest, AReadThatContradictsAnAcknowledgementIsAVisibilityViolation) {
  p_.acked[11] = 2;
  p_.reads.push_back(Read{"c", 3, 11, 0});  // acknowledged at 2, seen at 3
  Reconciled r = Reconcile({}, 0, p_, After({{10, 1}, {11, 2}}), 2);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "visibility");
  p_.reads = {Read{"a", 2, 12, 0}};  // 12 seen where the acknowledged 11 sits
  r = Reconcile({}, 0, p_, After({{10, 1}, {11, 2}}), 2);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "visibility");
  p_.reads = {Read{"a", 5, 999, 0}};  // a transaction not in the history, after the base
  r = Reconcile({}, 0, p_, After({{10, 1}, {11, 2}}), 2);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "visibility");
}

TEST_F(ReconcileTest, HalfATransactionIsI2) {
  State half = After({{10, 1}});
  half.erase("b");
  Reconciled r = Reconcile({}, 0, p_, half, 1);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "I2");
  EXPECT_NE(r.violations[0].detail.find("expected b"), std::string::npos);
}

TEST_F(ReconcileTest, AValueNoTransactionWroteIsI4) {
  State s = After({{10, 1}});
  s["a"].value = "forged";
  Reconciled r = Reconcile({}, 0, p_, s, 1);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "I4");
}

TEST_F(ReconcileTest, GoingBackBeforeAVerifiedStateIsI4) {
  Reconciled r = Reconcile(After({{10, 1}}), 1, Pending(), State(), 0);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "I4");
}

TEST(CheckerProtocolTest, MessagesRoundTripAndMalformedLinesAreRejected) {
  Txn t = T(42,
            {Put("d1", "v42", {{"s1", 7}, {"s2", 0}}, 3600), Del("m3"), Expect("s1", 7),
             Touch("s2", 0), TxnOp{TxnOp::kExpectAbsent, "m4", {}, 0, 0, {}}},
            false);
  t.ts_us = 123456;
  std::optional<Message> m = Decode(EncodeIntent(t));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, 'I');
  EXPECT_EQ(m->txn, t);
  const ModelEntry e{"v9", 9, true, {{"s1", 3}}};
  m = Decode(EncodeEntry("d1", e));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->key, "d1");
  EXPECT_EQ(m->entry, e);
  m = Decode(EncodeRead("s3", 77, 12, "v4294967298d"));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, 'R');
  EXPECT_EQ(m->key, "s3");
  EXPECT_EQ(m->ts_us, 77);
  EXPECT_EQ(m->update_id, 12u);
  EXPECT_EQ(m->via, "");
  EXPECT_EQ(TxnOfValue(m->entry.value), std::optional<uint64_t>(4294967298u));
  m = Decode(EncodeRead("s3", 77, 12, "v4294967298d", "scan"));  // which call read it
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->entry.value, "v4294967298d");
  EXPECT_EQ(m->via, "scan");
  EXPECT_EQ(TxnOfValue("v42"), std::optional<uint64_t>(42u));
  EXPECT_FALSE(TxnOfValue("v").has_value());
  EXPECT_FALSE(TxnOfValue("x42").has_value());
  EXPECT_FALSE(TxnOfValue("v4x2").has_value());
  EXPECT_FALSE(TxnOfValue("v99999999999999999999999").has_value());
  EXPECT_FALSE(Decode("R s3 77").has_value());
  EXPECT_FALSE(Decode("I 1 2 1 5 P k").has_value());  // cut short
  EXPECT_FALSE(Decode("Q nonsense").has_value());
  EXPECT_FALSE(Decode("").has_value());
}

TEST(CrashTest, ShortMixedRunFindsNoViolation) {
  test::ScratchDir dir;
  CrashTestOptions o;
  o.dir = dir.Join("cache");
  o.cycles = 12;
  o.seed = 5;
  Result<CrashTestReport> r = RunCrashTest(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Failure& f : r->failures)
    ADD_FAILURE() << f.violation.invariant << ": " << f.violation.detail;
  EXPECT_EQ(r->cycles, 12u);
  EXPECT_GT(r->transactions_committed, 0u);
  uint64_t kills = 0;
  for (const auto& [mode, n] : r->kills) kills += n;
  EXPECT_EQ(kills, 12u);
}

// The lockstep checker finds each bug that needs no death within a few hundred transactions,
// and the expiry filter's within a few lives, at the first death after a pin window
// (docs/checker.md has transactions to detection over seeds).
TEST(LockstepTest, FindsThePlantedBugsItCanSeeAndAgreesWithoutThem) {
  for (const char* bug :
       {"", "cascade-ignores-txn-edges", "skip-related-invalidation", "split-transaction",
        "expiry-filter-uses-clock", "snapshot-unpinned", "fill-without-sources"}) {
    test::ScratchDir dir;
    LockstepOptions o;
    o.dir = dir.Join("cache");
    o.transactions = *bug == 0                                             ? 3000
                     : std::string_view(bug) == "expiry-filter-uses-clock" ? 20000
                                                                           : 2000;
    o.seed = 3;
    o.inject_bug = bug;
    Result<LockstepReport> r = RunLockstep(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (*bug == 0) {
      EXPECT_TRUE(r->failure.empty()) << r->failure;
      EXPECT_EQ(r->transactions, 3000u);
      EXPECT_GT(r->applied, 0u);
      EXPECT_GT(r->conflicts, 0u);
      EXPECT_GT(r->invalid, 0u);
      EXPECT_GT(r->empty, 0u);
      EXPECT_GT(r->evictions, 0u);
      EXPECT_GT(r->read_through, 0u);
      EXPECT_GT(r->snapshots, 0u);
      EXPECT_GT(r->loads_stored, 0u);
    } else {
      EXPECT_FALSE(r->failure.empty()) << bug << " survived " << r->transactions;
    }
  }
}

TEST(CheckerModelTest, LaterOpsActOnEntriesDerivedEarlierInTheTransaction) {
  State s;
  Txn t = T(1, {Put("s", "a"), Put("d", "b", {{"s", 0}}), Touch("s", 100)});
  t.now_ms = 1000;
  ASSERT_EQ(Apply(t, 1, &s), Outcome::kApplied);
  EXPECT_EQ(s.at("d").expires_at, 1100u) << "clamped to its source's new expiry";
  t = T(2, {Put("x", "c", {{"d", 1}}), Put("s", "a2")});
  t.now_ms = 1001;
  ASSERT_EQ(Apply(t, 2, &s), Outcome::kApplied);
  EXPECT_EQ(s.count("d"), 0u);
  EXPECT_EQ(s.count("x"), 0u) << "derived, in this transaction, from what s's write removed";
  t = T(3, {Put("y", "e"), Put("z", "f", {{"y", 0}}), Del("y")});
  t.now_ms = 1002;
  ASSERT_EQ(Apply(t, 3, &s), Outcome::kApplied);
  EXPECT_EQ(s.count("z"), 0u);
  // Time: an entry expired at a transaction's instant is absent for it.
  t = T(4, {Expect("s", 2)});
  t.now_ms = 1002;
  EXPECT_EQ(Apply(t, 4, &s), Outcome::kEmpty);
  Txn late = T(5, {Put("s", "a3", {}, 10)});
  late.now_ms = 2000;
  ASSERT_EQ(Apply(late, 4, &s), Outcome::kApplied);
  Txn expired = T(6, {Expect("s", 4)});
  expired.now_ms = 2010;
  EXPECT_EQ(Apply(expired, 5, &s), Outcome::kConflict) << "expired at its instant";
}

TEST(CheckerVerifyTest, TheExpiryRuleFindsADerivedEntryOutlivingItsSource) {
  State st;
  st["s"] = ModelEntry{"a", 1, 500, {}};
  st["d"] = ModelEntry{"b", 2, 400, {{"s", 1}}};
  EXPECT_TRUE(CheckRelated(st).empty());
  st["d"].expires_at = 0;
  ASSERT_EQ(CheckRelated(st).size(), 1u);
  EXPECT_EQ(CheckRelated(st)[0].invariant, "expiry");
  st["d"].expires_at = 501;
  ASSERT_EQ(CheckRelated(st).size(), 1u);
}

TEST(CheckerVerifyTest, AConflictTheModelDoesNotFindIsAViolation) {
  State base;
  base["s"] = ModelEntry{"a", 1, 0, {}};
  Pending p;
  Txn ok = T(10, {Expect("s", 1), Put("x", "v10a")});
  ok.ts_us = 100;
  p.intents[10] = ok;
  p.conflicted.insert(10);
  p.rejected_at_us[10] = 200;
  Reconciled r = Reconcile(base, 1, p, base, 1);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0].invariant, "conflict");
  // A real conflict is explained.
  p.intents[10].ops[0].update_id = 7;
  EXPECT_TRUE(Reconcile(base, 1, p, base, 1).violations.empty());
}

TEST(CheckerVerifyTest, AReadAfterAnAcknowledgementMustSeeIt) {
  State base;
  Pending p;
  p.intents[1] = T(1, {Put("k", "v1a")});
  p.acked[1] = 1;
  p.acked_at_us[1] = 100;
  p.intents[2] = T(2, {Put("k", "v2a")});
  p.acked[2] = 2;
  p.acked_at_us[2] = 200;
  State after;
  after["k"] = ModelEntry{"v2a", 2, 0, {}};
  p.reads.push_back(Read{"k", 1, 1, 150});  // began between the two acknowledgements: fine
  EXPECT_TRUE(Reconcile(base, 0, p, after, 2).violations.empty());
  p.reads.push_back(Read{"k", 1, 1, 250});  // began after the second: stale
  Reconciled r = Reconcile(base, 0, p, after, 2);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0].invariant, "read");
}

TEST(CheckerVerifyTest, ExpiryDuringTheScanMayGoEitherWay) {
  State base;
  Pending p;
  Txn t = T(1, {Put("k", "v1a", {}, 100)});
  t.now_ms = 1000;  // expires at 1100
  p.intents[1] = t;
  p.acked[1] = 1;
  State with;
  with["k"] = ModelEntry{"v1a", 1, 1100, {}};
  const State without;
  EXPECT_TRUE(Reconcile(base, 0, p, with, 1, 1050, 1150).violations.empty());
  EXPECT_TRUE(Reconcile(base, 0, p, without, 1, 1050, 1150).violations.empty());
  EXPECT_FALSE(Reconcile(base, 0, p, with, 1, 1200, 1210).violations.empty()) << "expired";
  EXPECT_FALSE(Reconcile(base, 0, p, without, 1, 1000, 1010).violations.empty()) << "live";
}

// The crash test aims at every kill point of util/kill_point.h but three: the one that exists
// only under its planted bug (which PlanCycle adds for that bug); engine.fill_read_back, a place
// to hold a GetOrLoad (get_or_load_test), where a death is a death just after a commit returned
// (engine.logged and the WAL's points already aim there); engine.prefetched, a place to hold a
// commit before its sequencer (stored_index_test), where a death is one before the commit; and
// engine.index_read, a place to hold a stored-index read before it is cached (stored_index_test),
// which runs before the sequencer too. A point added to the list and forgotten by the checker
// fails here, and names and constants map both ways.
TEST(KillPointTest, TheCrashTestAimsAtEveryPoint) {
  for (KillPoint p : kAllKillPoints) {
    const std::string name = KillPointName(p);
    const bool aimed = std::count(KillPoints().begin(), KillPoints().end(), name) == 1;
    EXPECT_EQ(aimed, p != KillPoint::kCheckpointMarkerWritten &&
                         p != KillPoint::kEngineFillReadBack && p != KillPoint::kEnginePrefetched &&
                         p != KillPoint::kEngineIndexRead)
        << name;
    EXPECT_EQ(KillPointNamed(name), p) << name;
  }
  EXPECT_EQ(KillPoints().size(), kKillPointCount - 4);
  EXPECT_FALSE(KillPointNamed("wal.befor_write").has_value());
}

class PlantedBugTest : public ::testing::TestWithParam<InjectedBugInfo> {};

// Each planted bug is caught within this many cycles (seed 3; docs/checker.md has the medians
// over five seeds).
constexpr uint64_t kCyclesToCatch = 300;

// The deaths a bug's run uses: mixed, except where only one kind can expose the bug. A torn tail
// needs a power loss; in mixed runs ignore-torn-tail took 43 to 161 cycles (seeds 1-5) and up to
// 208 s under ASan, in power-loss runs 4 to 38. resume-after-torn-tail needs one too, and so
// does feed-past-durable: what it shows too early only a power loss takes back (mixed, seed 3
// caught it at cycle 80 on a quiet machine and not in 300 on a loaded one).
Mode ModeFor(std::string_view bug) {
  return bug == "ignore-torn-tail" || bug == "resume-after-torn-tail" || bug == "feed-past-durable"
             ? Mode::kPowerLoss
             : Mode::kMixed;
}

TEST_P(PlantedBugTest, IsCaught) {
  // Caught only when a power loss lands within a poll of the feed reader: 4 of seeds 1-5 within
  // 300 cycles, but seed 3 went uncaught on a loaded machine twice. Its deterministic check is
  // ChangeFeedTest.ABufferedTransactionIsSyncedBeforeTheFeedShowsIt (docs/checker.md).
  if (GetParam().name == std::string_view("feed-past-durable")) {
    GTEST_SKIP() << "timing-dependent in the crash test; checked deterministically in "
                    "change_feed_test";
  }
  // Needs a SIGKILL inside segment creation, a later child that continues the segment, and then
  // a power cut before any directory sync: seed 3 caught it in 34 s under release and ASan with
  // the writer before the pipelined one, and with the pipelined writer under release, but went
  // 300 cycles uncaught under ASan in a clean-clone CI (2026-12-02). Its deterministic check is
  // HalfCreatedSegmentTest (half_created_segment_test), which fails with it.
  if (GetParam().name == std::string_view("resume-half-created-segment")) {
    GTEST_SKIP() << "timing-dependent in the crash test; checked deterministically in "
                    "half_created_segment_test";
  }
  // A liveness bug: committers that wait for ever look to the crash test like a child it killed
  // at its deadline. Checked by WriterLivenessTest.TheLostWakeUpIsCaught, whose watchdog names it.
  if (GetParam().name == std::string_view("gatherer-leaves-silently")) {
    GTEST_SKIP() << "a hang, not a violation; checked in writer_liveness_test";
  }
  // Needs a GetOrLoad to join a load in the microseconds between its fill's read-back and the
  // end of its flight, after a write of the key or a source: staged deterministically by
  // GetOrLoadHeldTest (get_or_load_test), met about once in 260 s of realtime_stress_test.
  if (GetParam().name == std::string_view("follower-takes-stale-load")) {
    GTEST_SKIP() << "a window of microseconds; staged in get_or_load_test";
  }
  // Needs a checkpoint to land between a commit's reads before the sequencer and its plan under
  // it, and to move an edge that commit's cascade needs: staged by StoredIndexHeldTest
  // (stored_index_test), holding the commit at engine.prefetched.
  if (GetParam().name == std::string_view("prefetch-ignores-checkpoint")) {
    GTEST_SKIP() << "a window of microseconds; staged in stored_index_test";
  }
  // Needs a checkpoint to land between a cascade's read of a source's stored list and its
  // caching, and to move a new edge of that source: staged by StoredIndexHeldTest, holding the
  // read at engine.index_read.
  if (GetParam().name == std::string_view("index-fill-ignores-generation")) {
    GTEST_SKIP() << "a window of microseconds; staged in stored_index_test";
  }
  test::ScratchDir dir;
  CrashTestOptions o;
  o.dir = dir.Join("cache");
  o.cycles = kCyclesToCatch;
  o.seed = 3;
  o.inject_bug = std::string(GetParam().name);
  o.mode = ModeFor(GetParam().name);
  o.keep_failures = dir.Join("failures");
  Result<CrashTestReport> r = RunCrashTest(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->failures.empty()) << GetParam().name << " survived " << r->cycles << " cycles";
  const Failure& f = r->failures.front();
  EXPECT_FALSE(f.violation.detail.empty());
  EXPECT_NE(f.replay.find("--inject-bug " + std::string(GetParam().name)), std::string::npos);
  EXPECT_FALSE(f.kept_dir.empty());
}

INSTANTIATE_TEST_SUITE_P(Bugs, PlantedBugTest, ::testing::ValuesIn(InjectedBugs()),
                         [](const ::testing::TestParamInfo<InjectedBugInfo>& i) {
                           std::string n(i.param.name);
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace walcache::checker
