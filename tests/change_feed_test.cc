// engine + wal: the change feed (docs/change-feed.md) — Cache::Changes in updateId order with
// every effect of each transaction (cascaded invalidations included), the gap a truncated position
// reports, the retention that keeps a position across checkpoints and reopens (bytes and named
// consumers, DIR/FEED), the stable encoding, the history id and the durability of what it shows.
// Readers racing commits and checkpoints: change_feed_race_test.cc.
#include "walcache/change_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/change_feed_test_util.h"
#include "tests/test_util.h"
#include "util/file_system.h"
#include "util/injected_bug.h"
#include "wal/changes.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

using namespace feed_test;  // NOLINT: the suite's helpers

using Kind = Change::Kind;

TEST(ChangeFeedTest, EveryTransactionInOrderWithItsCascades) {
  test::ScratchDir dir;
  auto c = OpenOrDie(dir.path(), SmallSegments());
  ASSERT_NE(c, nullptr);
  auto a = c->Put("a", "1", {.ttl_ms = 0});
  ASSERT_TRUE(a.ok());
  auto b = c->Put("b", "from a", {.related = {{"a", *a}}});
  ASSERT_TRUE(b.ok());
  auto d = c->Put("d", "from b", {.related = {{"b", *b}}});
  ASSERT_TRUE(d.ok());
  auto del = c->Delete("a");  // invalidates b, and d through b
  ASSERT_TRUE(del.ok());
  auto t = c->Touch("missing", 10);  // writes nothing, consumes no updateId
  ASSERT_TRUE(t.ok());
  Transaction txn = c->Begin();
  txn.Put("x", "1");
  txn.Touch("x", 60'000);
  txn.Invalidate("y");
  auto multi = txn.Commit();
  ASSERT_TRUE(multi.ok());

  auto batch = c->Changes(0);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_FALSE(batch->gap);
  EXPECT_EQ(batch->visible, *multi);
  EXPECT_EQ(batch->next_from, *multi);
  ASSERT_EQ(batch->txns.size(), 5u);
  for (size_t i = 0; i < batch->txns.size(); ++i) EXPECT_EQ(batch->txns[i].update_id, i + 1);

  EXPECT_EQ(batch->txns[0].changes, (std::vector<Change>{{Kind::kPut, "a", "1", 0, {}}}));
  EXPECT_EQ(batch->txns[1].changes,
            (std::vector<Change>{{Kind::kPut, "b", "from a", 0, {{"a", *a}}}}));
  // The delete and both entries derived from "a", transitively (the invalidations are placed
  // where the planner computed them).
  std::map<std::string, Kind> cascade;
  for (const Change& ch : batch->txns[3].changes) {
    EXPECT_TRUE(ch.value.empty() && ch.related.empty());
    cascade[ch.key] = ch.kind;
  }
  EXPECT_EQ(batch->txns[3].changes.size(), 3u);
  EXPECT_EQ(cascade,
            (std::map<std::string, Kind>{
                {"a", Kind::kDelete}, {"b", Kind::kInvalidate}, {"d", Kind::kInvalidate}}));
  const std::vector<Change>& m = batch->txns[4].changes;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].kind, Kind::kPut);
  EXPECT_EQ(m[1].kind, Kind::kTouch);
  EXPECT_NE(m[1].expires_at, 0u);
  EXPECT_EQ(m[2], (Change{Kind::kInvalidate, "y", "", 0, {}}));

  // Resuming from a position, in batches of at most max.
  auto tail = c->Changes(2, 2);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->txns.size(), 2u);
  EXPECT_EQ(tail->txns[0].update_id, 3u);
  EXPECT_EQ(tail->next_from, 4u);
  // Caught up: nothing, and no gap.
  auto none = c->Changes(*multi);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->txns.empty());
  EXPECT_FALSE(none->gap);
  EXPECT_EQ(none->next_from, *multi);
  EXPECT_TRUE(c->Changes(0, 0).status().IsInvalidArgument());
}

TEST(ChangeFeedTest, EncodingRoundTripsAndRefusesDamage) {
  const ChangeTxn txn{42,
                      {{Kind::kPut, "k", std::string("v\0w", 3), 7, {{"s", 3}, {"t", 0}}},
                       {Kind::kDelete, "d", "", 0, {}},
                       {Kind::kInvalidate, "i", "", 0, {}},
                       {Kind::kTouch, "k", "", 99, {}}}};
  const std::string bytes = EncodeChangeTxn(txn);
  auto back = DecodeChangeTxn(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, txn);
  EXPECT_TRUE(DecodeChangeTxn(bytes.substr(0, bytes.size() - 1)).status().IsCorruption());
  EXPECT_TRUE(DecodeChangeTxn(bytes + "x").status().IsCorruption());
  EXPECT_TRUE(DecodeChangeTxn("").status().IsCorruption());
}

TEST(ChangeFeedTest, AResumePositionStartsThereAndAWrongOneIsCorruption) {
  test::ScratchDir dir;
  {
    Options o = SmallSegments();
    o.wal_retention_bytes = 1 << 20;  // the close's checkpoint keeps every segment
    auto c = OpenOrDie(dir.path(), o);
    ASSERT_NE(c, nullptr);
    Fill(c.get(), 30);
  }
  FileSystem* fs = FileSystem::Posix();
  const std::string wal = dir.Join("wal");
  auto first = wal::ReadChanges(fs, wal, 0, 30, 17);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->next.has_value());
  EXPECT_EQ(first->next->seq, 18u);
  auto plain = wal::ReadChanges(fs, wal, 17, 30, 100);
  auto resumed = wal::ReadChanges(fs, wal, 17, 30, 100, first->next);
  ASSERT_TRUE(plain.ok() && resumed.ok());
  EXPECT_EQ(resumed->batch.txns, plain->batch.txns);
  EXPECT_EQ(resumed->batch.txns.size(), 13u);
  // A position off by a byte reads as damage, never as other records.
  wal::ReadPosition wrong = *first->next;
  ++wrong.offset;
  auto bad = wal::ReadChanges(fs, wal, 17, 30, 100, wrong);
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  // One for another seq is not used.
  auto other = wal::ReadChanges(fs, wal, 10, 30, 100, first->next);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->batch.txns.size(), 20u);
  EXPECT_EQ(other->batch.txns.front().update_id, 11u);
}

TEST(ChangeFeedTest, APositionTruncatedAwayIsAGapNotASkip) {
  test::ScratchDir dir;
  auto c = OpenOrDie(dir.path(), SmallSegments());
  ASSERT_NE(c, nullptr);
  const std::vector<uint64_t> ids = Fill(c.get(), 60);
  ASSERT_EQ(ids.size(), 60u);
  ASSERT_GT(test::SegmentPaths(dir.Join("wal")).size(), 2u);
  ASSERT_TRUE(c->Checkpoint().ok());
  EXPECT_GT(c->Stats().wal_segments_deleted, 0u);

  auto b = c->Changes(0);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->gap);
  EXPECT_TRUE(b->txns.empty());
  EXPECT_EQ(b->next_from, 0u);
  EXPECT_GT(b->oldest_from, 0u);
  EXPECT_LT(b->oldest_from, ids.back());
  // From the oldest position it still holds, the feed reads on without a hole.
  const std::vector<ChangeTxn> rest = ReadAll(c.get(), b->oldest_from);
  ASSERT_EQ(rest.size(), ids.back() - b->oldest_from);
  EXPECT_EQ(rest.front().update_id, b->oldest_from + 1);

  // A position beyond what the cache holds (history after it was lost) is a gap too.
  auto ahead = c->Changes(ids.back() + 5);
  ASSERT_TRUE(ahead.ok());
  EXPECT_TRUE(ahead->gap);
  EXPECT_EQ(ahead->oldest_from, ids.back());
}

TEST(ChangeFeedTest, RetentionBytesKeepThePositionAcrossCheckpointsAndReopens) {
  test::ScratchDir dir;
  Options o = SmallSegments();
  o.wal_retention_bytes = 1 << 20;
  {
    auto c = OpenOrDie(dir.path(), o);
    ASSERT_NE(c, nullptr);
    Fill(c.get(), 60);
    ASSERT_TRUE(c->Checkpoint().ok());
    EXPECT_EQ(c->Stats().wal_segments_deleted, 0u);
    // Small batches resume where the last one ended, across segment boundaries; the same
    // transactions as one read from the segments' starts.
    const std::vector<ChangeTxn> hinted = ReadAll(c.get(), 0, 7);
    EXPECT_EQ(hinted.size(), 60u);
    EXPECT_EQ(hinted, ReadAll(c.get(), 0, 1000));
  }  // closes with a checkpoint
  {
    // Options that do not say keep the directory's retention: so do the CLI tools.
    auto c = OpenOrDie(dir.path(), SmallSegments());
    ASSERT_NE(c, nullptr);
    Fill(c.get(), 10, "more");
    ASSERT_TRUE(c->Checkpoint().ok());
    const std::vector<ChangeTxn> all = ReadAll(c.get(), 0);
    ASSERT_EQ(all.size(), 70u);
    EXPECT_EQ(all[65].changes.at(0).key, "more5");
  }
  {
    // Retention set to 0: the next checkpoint deletes what it covers.
    Options none = SmallSegments();
    none.wal_retention_bytes = 0;
    auto c = OpenOrDie(dir.path(), none);
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Checkpoint().ok());
    auto b = c->Changes(0);
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(b->gap);
  }
}

// Transactions 1..30, the consumer "peer" registered at 30, then 31..90 ("after0".."after59").
void FillWithAPeerAt30(Cache* c) {
  Fill(c, 30);
  EXPECT_TRUE(c->SetFeedPosition("bad name", 1).IsInvalidArgument());
  EXPECT_TRUE(c->SetFeedPosition("", 1).IsInvalidArgument());
  EXPECT_TRUE(c->SetFeedPosition("peer", 31).IsInvalidArgument());  // past the newest
  ASSERT_TRUE(c->SetFeedPosition("peer", 30).ok());
  Fill(c, 60, "after");
}

TEST(ChangeFeedTest, AConsumerPositionKeepsItsSegmentsUntilRemoved) {
  test::ScratchDir dir;
  {
    auto c = OpenOrDie(dir.path(), SmallSegments());
    ASSERT_NE(c, nullptr);
    FillWithAPeerAt30(c.get());
    ASSERT_TRUE(c->Checkpoint().ok());
    const std::vector<ChangeTxn> got = ReadAll(c.get(), 30);
    ASSERT_EQ(got.size(), 60u);
    EXPECT_EQ(got.front().update_id, 31u);
    EXPECT_EQ(got.front().changes.at(0).key, "after0");
    // What precedes the position was not kept.
    auto old = c->Changes(0);
    ASSERT_TRUE(old.ok());
    EXPECT_TRUE(old->gap);
    EXPECT_LE(old->oldest_from, 30u);
  }  // the close checkpoints too
  {
    auto c = OpenOrDie(dir.path(), SmallSegments());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->FeedConsumers(), (std::vector<std::pair<std::string, uint64_t>>{{"peer", 30}}));
    ASSERT_TRUE(c->Checkpoint().ok());
    EXPECT_EQ(ReadAll(c.get(), 30).size(), 60u);
    // Moving on lets the checkpoint delete what the consumer passed.
    ASSERT_TRUE(c->SetFeedPosition("peer", 70).ok());
    ASSERT_TRUE(c->Checkpoint().ok());
    EXPECT_EQ(ReadAll(c.get(), 70).size(), 20u);
    auto passed = c->Changes(30);
    ASSERT_TRUE(passed.ok());
    EXPECT_TRUE(passed->gap);
    ASSERT_TRUE(c->RemoveFeedConsumer("peer").ok());
    EXPECT_TRUE(c->RemoveFeedConsumer("peer").IsNotFound());
    EXPECT_TRUE(c->FeedConsumers().empty());
    Fill(c.get(), 30, "last");
    ASSERT_TRUE(c->Checkpoint().ok());
    auto gone = c->Changes(70);
    ASSERT_TRUE(gone.ok());
    EXPECT_TRUE(gone->gap);
  }
}

// The feed shows only what no power loss can take back: a buffered transaction that is visible
// but not fdatasynced is synced by the Changes call that returns it (one fdatasync), and a call
// that finds nothing new syncs nothing. With the planted bug it is returned unsynced.
TEST(ChangeFeedTest, ABufferedTransactionIsSyncedBeforeTheFeedShowsIt) {
  for (const bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted feed-past-durable" : "as built");
    test::ScratchDir dir;
    Options o = SmallSegments();
    o.sync_interval = std::chrono::milliseconds(0);  // buffered records: synced only when asked
    auto c = OpenOrDie(dir.path(), o);
    ASSERT_NE(c, nullptr);
    auto first = c->Changes(0);  // makes the history id (DIR/FEED) before the counting starts
    ASSERT_TRUE(first.ok());
    const uint64_t base = c->Stats().last_seq;
    for (int i = 0; i < 3; ++i) {
      Transaction t = c->Begin();
      t.Put("b" + std::to_string(i), "v");
      ASSERT_TRUE(t.Commit(Durability::kBuffered).ok());
    }
    const uint64_t before = c->Stats().wal_fsyncs;
    if (planted) {
      ASSERT_TRUE(InjectBug("feed-past-durable").ok());
    }
    auto b = c->Changes(base, 10);
    ASSERT_TRUE(InjectBug("").ok());
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_EQ(b->txns.size(), 3u);
    EXPECT_EQ(c->Stats().wal_fsyncs, before + (planted ? 0 : 1));
    auto caught_up = c->Changes(b->next_from, 10);
    ASSERT_TRUE(caught_up.ok());
    EXPECT_TRUE(caught_up->txns.empty());
    EXPECT_EQ(c->Stats().wal_fsyncs, before + (planted ? 0 : 1));
  }
}

// The history id: made by the first feed read, kept in DIR/FEED across reopens, the same in every
// batch, and checked: the current id or 0 reads on, an id this directory never had is a gap.
// (A repair's renewal: tests/cli_truth_test.cc, RepairOfATailRenewsTheFeedHistory.)
TEST(ChangeFeedTest, TheHistoryIdIsStableAcrossReopensAndChecked) {
  test::ScratchDir dir;
  uint64_t history = 0;
  {
    auto c = OpenOrDie(dir.path(), SmallSegments());
    ASSERT_NE(c, nullptr);
    Fill(c.get(), 5);
    auto b = c->Changes(0, 2);
    ASSERT_TRUE(b.ok());
    history = b->history;
    EXPECT_NE(history, 0u);
    auto next = c->Changes(b->next_from, 2, history);
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(next->gap);
    EXPECT_EQ(next->history, history);
  }
  auto c = OpenOrDie(dir.path(), SmallSegments());
  ASSERT_NE(c, nullptr);
  auto b = c->Changes(2, 10, history);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->gap);
  EXPECT_EQ(b->history, history);
  auto other = c->Changes(2, 10, history + 1);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->gap);
  EXPECT_TRUE(other->txns.empty());
}

// Under the planted bug checkpoints forget the registered consumers: the position they promised
// to keep is a gap. (The crash test's feed reader catches it too: docs/checker.md.)
TEST(ChangeFeedTest, ThePlantedBugForgetsTheConsumer) {
  test::ScratchDir dir;
  auto c = OpenOrDie(dir.path(), SmallSegments());
  ASSERT_NE(c, nullptr);
  Fill(c.get(), 5);
  ASSERT_TRUE(c->SetFeedPosition("peer", 5).ok());
  Fill(c.get(), 60, "after");
  ASSERT_TRUE(InjectBug("feed-forgets-consumers").ok());
  const Status cp = c->Checkpoint();
  ASSERT_TRUE(InjectBug("").ok());
  ASSERT_TRUE(cp.ok()) << cp.ToString();
  auto b = c->Changes(5);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->gap) << "the test cannot see the bug";
}

TEST(ChangeFeedTest, ADamagedFeedFileFailsTheOpenAndRemovingItDropsOnlyTheRetention) {
  test::ScratchDir dir;
  {
    auto c = OpenOrDie(dir.path(), SmallSegments());
    ASSERT_NE(c, nullptr);
    FillWithAPeerAt30(c.get());
  }
  EXPECT_NE(test::ReadFile(dir.Join("FEED")).find("consumer:peer 30\n"), std::string::npos);
  {
    Options ro = SmallSegments();
    ro.read_only = true;
    auto c = OpenOrDie(dir.path(), ro);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(ReadAll(c.get(), 30).size(), 60u);
    EXPECT_TRUE(c->SetFeedPosition("peer", 40).IsAborted());
    EXPECT_TRUE(c->RemoveFeedConsumer("peer").IsAborted());
  }
  test::WriteFile(dir.Join("FEED"), "retain_bytes 0\nconsumer:peer 3x\n");
  auto bad = Cache::Open(dir.path(), SmallSegments());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("FEED"), std::string::npos) << bad.status().ToString();
  std::remove(dir.Join("FEED").c_str());
  auto c = OpenOrDie(dir.path(), SmallSegments());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->FeedConsumers().empty());
  ASSERT_TRUE(c->Checkpoint().ok());
  auto b = c->Changes(30);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->gap) << "the retention went with the file: a gap, not a skip";
}

}  // namespace
}  // namespace walcache
