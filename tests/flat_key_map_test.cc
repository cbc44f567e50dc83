// engine/flat_key_map.h: against std::unordered_map as the model, over random inserts, finds and
// erases (with colliding hashes, so probes cross tombstones); nodes never move while they live;
// erasing while iterating visits every node once; a table churned by inserts and erases stays
// bounded by its live keys, not by all keys it ever held.
#include "engine/flat_key_map.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <unordered_map>

namespace walcache::engine {
namespace {

// A weak hash on purpose: keys that differ only in their last character share it, so probes
// meet runs of equal hashes and must compare keys.
size_t WeakHash(const std::string& key) {
  return std::hash<std::string>()(key.substr(0, key.size() - 1));
}

TEST(FlatKeyMapTest, AgreesWithAModelOverRandomOperations) {
  FlatKeyMap<int> map;
  std::unordered_map<std::string, int> model;
  std::unordered_map<std::string, const FlatKeyMap<int>::Node*> where;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200000; ++step) {
    const std::string key = "k" + std::to_string(rng() % 3000);
    const size_t h = WeakHash(key);
    switch (rng() % 3) {
      case 0: {
        bool inserted = false;
        FlatKeyMap<int>::Node* n = map.FindOrInsert(key, h, &inserted);
        ASSERT_EQ(inserted, model.count(key) == 0) << key;
        ASSERT_EQ(n->key, key);
        if (inserted) {
          n->value = step;
          model[key] = step;
          where[key] = n;
        } else {
          ASSERT_EQ(n, where[key]) << "a live node moved";
        }
        break;
      }
      case 1: {
        const FlatKeyMap<int>::Node* n = map.Find(key, h);
        auto m = model.find(key);
        ASSERT_EQ(n != nullptr, m != model.end()) << key;
        if (n != nullptr) {
          ASSERT_EQ(n->value, m->second);
        }
        break;
      }
      case 2:
        ASSERT_EQ(map.Erase(key, h), model.erase(key) == 1) << key;
        where.erase(key);
        break;
    }
    ASSERT_EQ(map.size(), model.size());
  }
  size_t visited = 0;
  map.ForEach([&](const FlatKeyMap<int>::Node& n) {
    ++visited;
    EXPECT_EQ(model.at(n.key), n.value);
  });
  EXPECT_EQ(visited, model.size());
}

TEST(FlatKeyMapTest, ErasingWhileIteratingVisitsEveryNodeOnce) {
  FlatKeyMap<int> map;
  for (int i = 0; i < 1000; ++i) {
    bool inserted = false;
    const std::string key = std::to_string(i);
    map.FindOrInsert(key, WeakHash(key), &inserted)->value = i;
  }
  std::set<int> seen;
  map.ForEach([&](FlatKeyMap<int>::Node& n) {
    EXPECT_TRUE(seen.insert(n.value).second) << n.value << " visited twice";
    if (n.value % 2 == 0) {
      EXPECT_TRUE(map.Erase(n.key, WeakHash(n.key)));
    }
  });
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(map.size(), 500u);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = std::to_string(i);
    EXPECT_EQ(map.Find(key, WeakHash(key)) != nullptr, i % 2 == 1) << i;
  }
}

TEST(FlatKeyMapTest, ChurnKeepsTheArrayBoundedByTheLiveKeys) {
  FlatKeyMap<int> map;
  bool inserted = false;
  for (int i = 0; i < 100000; ++i) {  // a window of 100 live keys slides over 100,000
    const std::string key = std::to_string(i);
    map.FindOrInsert(key, std::hash<std::string>()(key), &inserted);
    if (i >= 100) {
      const std::string old = std::to_string(i - 100);
      ASSERT_TRUE(map.Erase(old, std::hash<std::string>()(old)));
    }
  }
  EXPECT_EQ(map.size(), 100u);
  EXPECT_LE(map.capacity(), 512u) << "tombstones were never reclaimed";
}

}  // namespace
}  // namespace walcache::engine
