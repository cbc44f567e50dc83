// engine + wal: the change feed read from a thread while others commit (both durabilities) and
// checkpoint without pause. A registered reader sees no gap; an unregistered one that checkpoints
// overtake is told of each gap and resumes; neither ever sees a hole or a transaction that was not
// visible when its call returned (docs/change-feed.md).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/change_feed_test_util.h"
#include "tests/test_util.h"
#include "walcache/cache.h"
#include "walcache/change_feed.h"

namespace walcache {
namespace {

using namespace feed_test;  // NOLINT: the suite's helpers

// A reader polls the feed while committers commit (both durabilities) and a thread checkpoints
// without pause. A registered reader keeps its position (SetFeedPosition) and may see no gap; an
// unregistered one reads slowly, so checkpoints overtake it, and resumes from oldest_from after
// each gap reported. Neither may see a hole, or a transaction above the visible watermark at the
// moment the call returned. Returns the gaps the reader was told of.
uint64_t RaceAReader(bool registered) {
  test::ScratchDir dir;
  Options o = SmallSegments();
  o.sync_interval = std::chrono::milliseconds(2);
  auto c = OpenOrDie(dir.path(), o);
  if (c == nullptr) return 0;
  if (registered) {
    EXPECT_TRUE(c->SetFeedPosition("reader", 0).ok());
  }
  constexpr int kWriters = 3, kPerWriter = 300;
  std::atomic<int> writers_left{kWriters};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter && !failed; ++i) {
        Transaction t = c->Begin();
        const std::string k = "w" + std::to_string(w) + ":" + std::to_string(i);
        t.Put(k, std::string(200, 'x'));
        t.Put(k + ":dep", "d", {.related = {{k, 0}}});
        if (i > 0) t.Delete("w" + std::to_string(w) + ":" + std::to_string(i - 1));
        if (!t.Commit(i % 2 == 0 ? Durability::kSync : Durability::kBuffered).ok()) failed = true;
      }
      --writers_left;
    });
  }
  threads.emplace_back([&] {
    while (writers_left > 0 && !failed) {
      if (!c->Checkpoint().ok()) failed = true;
    }
  });
  uint64_t from = 0, gaps = 0;
  threads.emplace_back([&] {
    while (!failed) {
      const bool done = writers_left == 0;
      auto b = c->Changes(from, registered ? 50 : 3);
      const uint64_t visible_after = c->Stats().last_seq;
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (!b.ok()) {
        failed = true;
        break;
      }
      uint64_t expect = from + 1;
      for (const ChangeTxn& t : b->txns) {
        EXPECT_EQ(t.update_id, expect) << "a hole after " << expect - 1;
        EXPECT_LE(t.update_id, visible_after) << "read a transaction not yet visible";
        EXPECT_FALSE(t.changes.empty());
        if (t.update_id != expect || t.update_id > visible_after) failed = true;
        ++expect;
      }
      EXPECT_EQ(b->next_from, expect - 1);
      if (b->gap) {
        EXPECT_FALSE(registered) << "gap after " << from << " at a registered position";
        EXPECT_TRUE(b->txns.empty());
        EXPECT_GT(b->oldest_from, from);
        ++gaps;
        from = b->oldest_from;
        continue;
      }
      from = b->next_from;
      if (registered && !c->SetFeedPosition("reader", from).ok()) failed = true;
      if (done && b->txns.empty()) break;
      if (!registered) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(failed);
  const uint64_t last = c->Stats().last_seq;
  EXPECT_EQ(last, uint64_t{kWriters} * kPerWriter);
  EXPECT_EQ(from, last);
  EXPECT_GT(c->Stats().wal_segments_deleted, 0u);
  return gaps;
}

TEST(ChangeFeedTest, ARegisteredReaderRacingCommitsAndCheckpointsSeesEveryTransaction) {
  EXPECT_EQ(RaceAReader(/*registered=*/true), 0u);
}

TEST(ChangeFeedTest, AnUnregisteredReaderOvertakenByCheckpointsIsToldOfEachGap) {
  const uint64_t gaps = RaceAReader(/*registered=*/false);
  std::printf("the slow reader was told of %llu gaps\n", static_cast<unsigned long long>(gaps));
}

}  // namespace
}  // namespace walcache
