// Helpers of the change-feed suites (change_feed_test.cc, change_feed_race_test.cc): a cache
// with small segments and checkpoints only on request, and readers of the whole feed.
// Thread-safety: as the Cache they are given.
#ifndef WALCACHE_TESTS_CHANGE_FEED_TEST_UTIL_H_
#define WALCACHE_TESTS_CHANGE_FEED_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "walcache/cache.h"
#include "walcache/change_feed.h"

namespace walcache::feed_test {

inline Options SmallSegments() {
  Options o;
  o.wal_segment_size = 4 << 10;
  o.compression = false;
  // Checkpoints only when a test asks (and at close).
  o.checkpoint_wal_bytes = 0;
  o.checkpoint_dirty_bytes = 0;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  return o;
}

inline std::unique_ptr<Cache> OpenOrDie(const std::string& dir, const Options& o) {
  auto c = Cache::Open(dir, o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

// Writes n transactions of ~300 bytes each (a 4 KiB segment holds about a dozen).
inline std::vector<uint64_t> Fill(Cache* c, int n, const std::string& prefix = "k") {
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i) {
    auto id = c->Put(prefix + std::to_string(i), std::string(300, 'v'));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (id.ok()) ids.push_back(*id);
  }
  return ids;
}

// Every transaction after `from`, read in batches of `max`; fails the test on a gap or an error.
inline std::vector<ChangeTxn> ReadAll(Cache* c, uint64_t from, size_t max = 7) {
  std::vector<ChangeTxn> all;
  for (;;) {
    auto b = c->Changes(from, max);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) return all;
    EXPECT_FALSE(b->gap) << "gap after " << from << ", oldest_from " << b->oldest_from;
    if (b->gap) return all;
    for (ChangeTxn& t : b->txns) all.push_back(std::move(t));
    if (b->next_from == from) return all;
    from = b->next_from;
  }
}

}  // namespace walcache::feed_test

#endif  // WALCACHE_TESTS_CHANGE_FEED_TEST_UTIL_H_
