// engine/s3fifo.h: the eviction order — one-hit wonders leave before re-accessed items, the ghost
// readmits a returning key straight to main, main is a CLOCK, pinned items are never evicted and
// a pass that finds only pinned items stops rather than spin.
#include "engine/s3fifo.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

namespace walcache::engine {
namespace {

struct Item {
  int id = 0;
  bool pinned = false;
  S3Fifo<Item>::Hook s3fifo;
};

class S3FifoTest : public ::testing::Test {
 protected:
  S3FifoTest() : fifo_(10) {}  // ten unit-charge items

  Item* Insert(int id, bool warm = false) {
    auto item = std::make_unique<Item>();
    item->id = id;
    Item* p = item.get();
    live_[id] = std::move(item);
    fifo_.Insert(p, static_cast<uint64_t>(id), 1, warm);
    return p;
  }
  // Inserts as a cache would on a miss, then evicts; records what left.
  void Miss(int id) {
    Insert(id);
    Evict();
  }
  void Evict() {
    fifo_.Evict([](const Item* i) { return i->pinned; },
                [&](Item* i) {
                  evicted_.push_back(i->id);
                  live_.erase(i->id);
                });
  }
  bool Resident(int id) const { return live_.count(id) > 0; }

  S3Fifo<Item> fifo_;
  std::map<int, std::unique_ptr<Item>> live_;
  std::vector<int> evicted_;
};

TEST_F(S3FifoTest, StaysWithinCapacityAndEvictsOneHitWondersFirst) {
  for (int i = 0; i < 10; ++i) Insert(i);
  for (int i = 0; i < 5; ++i) S3Fifo<Item>::Access(live_[i].get());  // 0..4 re-accessed
  for (int i = 10; i < 20; ++i) Miss(i);
  EXPECT_EQ(fifo_.bytes(), 10u);
  EXPECT_EQ(fifo_.items(), 10u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Resident(i)) << i;  // promoted to main
  for (int i = 5; i < 10; ++i) EXPECT_FALSE(Resident(i)) << i;
  // Eviction order among the unaccessed: oldest first.
  ASSERT_GE(evicted_.size(), 5u);
  EXPECT_EQ(std::vector<int>(evicted_.begin(), evicted_.begin() + 5),
            (std::vector<int>{5, 6, 7, 8, 9}));
}

TEST_F(S3FifoTest, AKeyEvictedFromSmallReturnsToMainThroughTheGhost) {
  for (int i = 0; i < 10; ++i) Insert(i);
  Miss(100);  // evicts 0 into the ghost
  ASSERT_FALSE(Resident(0));
  Miss(0);  // back: enters main, so a burst of new keys does not push it out
  for (int i = 200; i < 208; ++i) Miss(i);
  EXPECT_TRUE(Resident(0));
}

TEST_F(S3FifoTest, PinnedItemsAreNeverEvictedAndAllPinnedStopsOverCapacity) {
  for (int i = 0; i < 10; ++i) Insert(i)->pinned = true;
  Miss(10);  // the only evictable item is the new one
  EXPECT_EQ(evicted_, std::vector<int>{10});
  Insert(11)->pinned = true;  // over capacity with nothing evictable: Evict returns
  Evict();
  EXPECT_EQ(fifo_.bytes(), 11u);
  for (int i = 0; i < 12; ++i) {
    if (i != 10) {
      EXPECT_TRUE(Resident(i)) << i;
    }
  }
  // Unpinned later (a checkpoint made them clean), they go on the next call.
  for (auto& [id, item] : live_) item->pinned = false;
  Evict();
  EXPECT_EQ(fifo_.bytes(), 10u);
}

TEST_F(S3FifoTest, MainIsAClockThatSparesRecentlyAccessedItems) {
  for (int i = 0; i < 10; ++i) Insert(i, /*warm=*/true);  // straight to main
  S3Fifo<Item>::Access(live_[0].get());                   // the oldest, but accessed
  Insert(10, /*warm=*/true);
  Evict();
  EXPECT_TRUE(Resident(0));  // spared once, its frequency spent
  EXPECT_EQ(evicted_, std::vector<int>{1});
  for (int i = 11; i < 21; ++i) {  // ten newer items pass it
    Insert(i, /*warm=*/true);
    Evict();
  }
  EXPECT_FALSE(Resident(0));
}

TEST_F(S3FifoTest, NewItemsChurnInSmallWithoutTouchingMain) {
  for (int i = 0; i < 9; ++i) Insert(i, /*warm=*/true);
  for (int i = 100; i < 200; ++i) Miss(i);  // a scan of one-hit wonders
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(Resident(i)) << i;
}

TEST_F(S3FifoTest, RechargeAndRemoveKeepTheByteCount) {
  Item* a = Insert(1);
  Insert(2);
  fifo_.Recharge(a, 4);
  EXPECT_EQ(fifo_.bytes(), 5u);
  fifo_.Remove(a);
  live_.erase(1);
  EXPECT_EQ(fifo_.bytes(), 1u);
  EXPECT_EQ(fifo_.items(), 1u);
}

}  // namespace
}  // namespace walcache::engine
