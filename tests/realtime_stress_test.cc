// Real-time reads under races, in one process and without deaths: writers, readers, scans,
// snapshots and checkpoints run at once over a cache whose memory budget is far below its data,
// so evictions, read-throughs, fills and checkpoints interleave with every read and commit.
//
// The oracle. Each writer, after a commit returns, raises a per-key bound to the commit's
// updateId for every key the transaction wrote by name (put, delete, invalidate). A reader loads
// every bound before it reads. What it reads must then be at or above the bound of its own key,
// and derived no earlier than its sources' bounds: a write of a source acknowledged before the
// read invalidated every entry derived from an older version of it (transitively: a second-level
// entry is checked against its source's source too). Expiry only ever hides an entry, so TTLs
// and Touches (which keep the updateId) leave the rule as it is. A scan and a snapshot must also
// be consistent inside (I1): each entry's sources, where the same read shows them, are at the
// updateIds it names.
//
// And a watchdog: if no commit returns for kStuckAfter, the commit path is stuck (a lost wake-up
// in the group commit leaves committers asleep with no leader); the test aborts and says so,
// rather than hanging until CTest's timeout.
//
// Each planted bug that breaks what the oracle checks must be caught by the same run.
// WALCACHE_STRESS_MS sets each run's length (default 3000 ms).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"
#include "util/injected_bug.h"
#include "walcache/cache.h"
#include "walcache/get_or_load.h"
#include "walcache/snapshot.h"

namespace walcache {
namespace {

constexpr int kSources = 12;  // s0..: written directly
constexpr int kDerived = 24;  // d0..: derived from one or two sources
constexpr int kSecond = 12;   // e0..: derived from one d
constexpr int kKeys = kSources + kDerived + kSecond;
constexpr auto kStuckAfter = std::chrono::seconds(60);

std::string KeyName(int i) {
  if (i < kSources) return "s" + std::to_string(i);
  if (i < kSources + kDerived) return "d" + std::to_string(i - kSources);
  return "e" + std::to_string(i - kSources - kDerived);
}

int KeyIndex(std::string_view k) {
  const int n = std::atoi(std::string(k.substr(1)).c_str());
  switch (k[0]) {
    case 's':
      return n;
    case 'd':
      return kSources + n;
    default:
      return kSources + kDerived + n;
  }
}

class Oracle {
 public:
  // After a commit at `uid` returned, for each key it wrote by name.
  void Acked(const std::string& key, uint64_t uid) {
    std::atomic<uint64_t>& b = bounds_[KeyIndex(key)];
    uint64_t cur = b.load(std::memory_order_relaxed);
    while (cur < uid && !b.compare_exchange_weak(cur, uid, std::memory_order_release)) {
    }
  }
  std::array<uint64_t, kKeys> Bounds() const {
    std::array<uint64_t, kKeys> out{};
    for (int i = 0; i < kKeys; ++i) out[i] = bounds_[i].load(std::memory_order_acquire);
    return out;
  }
  // A d entry committed at `uid` derives from `related` (for the second-level check).
  void Derived(uint64_t uid, std::vector<RelatedKey> related) {
    std::lock_guard<std::mutex> l(mu_);
    derived_[uid] = std::move(related);
  }
  std::optional<std::vector<RelatedKey>> DerivedAt(uint64_t uid) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = derived_.find(uid);
    if (it == derived_.end()) return std::nullopt;
    return it->second;
  }

  void Violation(std::string what) {
    std::lock_guard<std::mutex> l(mu_);
    if (violations_.size() < 20) violations_.push_back(std::move(what));
    ++violation_count_;
  }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> l(mu_);
    return violations_;
  }
  uint64_t violation_count() const {
    std::lock_guard<std::mutex> l(mu_);
    return violation_count_;
  }

  // Checks one entry read at `how`, against bounds loaded before the read began.
  void Check(const char* how, const std::string& key, const Entry& e,
             const std::array<uint64_t, kKeys>& bound) {
    const uint64_t own = bound[KeyIndex(key)];
    if (e.update_id < own) {
      Violation(std::string(how) + ": '" + key + "' read at update_id " +
                std::to_string(e.update_id) + " after a write of it at " + std::to_string(own) +
                " was acknowledged");
    }
    for (const RelatedKey& r : e.related) {
      const uint64_t src = bound[KeyIndex(r.key)];
      if (r.update_id < src) {
        Violation(std::string(how) + ": '" + key + "'@" + std::to_string(e.update_id) +
                  " derives from '" + r.key + "'@" + std::to_string(r.update_id) +
                  ", read after a write of '" + r.key + "' at " + std::to_string(src) +
                  " was acknowledged");
      }
      if (r.key[0] != 'd') continue;
      std::optional<std::vector<RelatedKey>> up = DerivedAt(r.update_id);
      if (!up.has_value()) continue;  // its commit has not returned yet: no bound to check
      for (const RelatedKey& rr : *up) {
        const uint64_t top = bound[KeyIndex(rr.key)];
        if (rr.update_id < top) {
          Violation(std::string(how) + ": '" + key + "'@" + std::to_string(e.update_id) +
                    " derives from '" + r.key + "'@" + std::to_string(r.update_id) +
                    ", itself from '" + rr.key + "'@" + std::to_string(rr.update_id) +
                    ", read after a write of '" + rr.key + "' at " + std::to_string(top) +
                    " was acknowledged");
        }
      }
    }
  }

  // I1 inside one consistent read (a scan or a snapshot): every source the read shows is at the
  // updateId its dependents name, and no dependent names a source the read shows absent.
  void CheckConsistent(const char* how, const std::map<std::string, Entry>& all) {
    for (const auto& [k, e] : all) {
      for (const RelatedKey& r : e.related) {
        auto src = all.find(r.key);
        if (src == all.end() || src->second.update_id != r.update_id) {
          Violation(std::string(how) + ": '" + k + "'@" + std::to_string(e.update_id) +
                    " derives from '" + r.key + "'@" + std::to_string(r.update_id) +
                    ", which the same read shows " +
                    (src == all.end() ? std::string("absent")
                                      : "at " + std::to_string(src->second.update_id)));
        }
      }
    }
  }

 private:
  std::array<std::atomic<uint64_t>, kKeys> bounds_{};
  mutable std::mutex mu_;
  std::map<uint64_t, std::vector<RelatedKey>> derived_;
  std::vector<std::string> violations_;
  uint64_t violation_count_ = 0;
};

struct Counters {
  std::atomic<uint64_t> commits{0}, conflicts{0}, reads{0}, scans{0}, snapshots{0};
  std::atomic<uint64_t> checkpoints{0};
};

std::string Value(std::mt19937_64& rng) {
  return std::string(64 + rng() % 192, static_cast<char>('a' + rng() % 26));
}

// One writer's transaction; true if it committed.
void WriteOnce(Cache* c, Oracle* o, Counters* n, std::mt19937_64& rng) {
  const Durability dur = rng() % 2 == 0 ? Durability::kSync : Durability::kBuffered;
  Transaction t = c->Begin();
  std::vector<std::string> named;  // keys written by name
  std::optional<std::vector<RelatedKey>> derived;
  const int roll = static_cast<int>(rng() % 100);
  if (roll < 30) {
    // A source, one in five with a TTL short enough to expire during the run.
    const std::string s = KeyName(static_cast<int>(rng() % kSources));
    t.Put(s, Value(rng), {.ttl_ms = rng() % 5 == 0 ? 5 + rng() % 200 : 0});
    named.push_back(s);
  } else if (roll < 34) {
    // A Touch keeps the updateId (no bound moves), shortens or lengthens the expiry and clamps
    // what derives from the key: expiry, the sweep and the compaction filter join the races.
    const std::string k = KeyName(static_cast<int>(rng() % kKeys));
    t.Touch(k, rng() % 3 == 0 ? 0 : 5 + rng() % 200);
  } else if (roll < 40) {
    const std::string k = KeyName(static_cast<int>(rng() % kKeys));
    if (rng() % 2 == 0) {
      t.Delete(k);
    } else {
      t.Invalidate(k);
    }
    named.push_back(k);
  } else if (roll < 60) {
    // d filled by GetOrLoad from one or two sources; what it returns is a read too.
    const std::string d = KeyName(kSources + static_cast<int>(rng() % kDerived));
    const std::string s1 = KeyName(static_cast<int>(rng() % kSources));
    const std::string s2 = KeyName(static_cast<int>(rng() % kSources));
    const bool two = rng() % 2 == 0 && s1 != s2;
    const std::array<uint64_t, kKeys> bound = o->Bounds();
    Result<Loaded> got = c->GetOrLoad(d,
                                      [&](LoadContext& ctx) -> Result<std::string> {
                                        Result<Entry> a = ctx.Get(s1);
                                        if (!a.ok()) return a.status();
                                        if (two) {
                                          Result<Entry> b = ctx.Get(s2);
                                          if (!b.ok()) return b.status();
                                        }
                                        return std::string(80, 'f');
                                      },
                                      {.durability = dur});
    if (!got.ok()) {
      if (!got.status().IsNotFound()) o->Violation("GetOrLoad: " + got.status().ToString());
      return;
    }
    if (got->filled != 0 && got->entry.update_id == got->filled) {
      o->Derived(got->filled, got->entry.related);
    }
    if (got->stored) o->Check("GetOrLoad", d, got->entry, bound);
    n->commits++;
    return;
  } else if (roll < 70) {
    // d from one or two sources, read first.
    const std::string d = KeyName(kSources + static_cast<int>(rng() % kDerived));
    std::vector<RelatedKey> rel;
    const int sources = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < sources; ++i) {
      const std::string s = KeyName(static_cast<int>(rng() % kSources));
      if (!rel.empty() && rel[0].key == s) continue;
      Result<Entry> src = c->Get(s);
      if (!src.ok()) return;
      rel.push_back(RelatedKey{s, src->update_id});
    }
    t.Put(d, Value(rng), {.related = rel});
    named.push_back(d);
    derived = rel;
  } else if (roll < 90) {
    const std::string d = KeyName(kSources + static_cast<int>(rng() % kDerived));
    const std::string e = KeyName(kSources + kDerived + static_cast<int>(rng() % kSecond));
    Result<Entry> src = c->Get(d);
    if (!src.ok()) return;
    t.Put(e, Value(rng), {.related = {RelatedKey{d, src->update_id}}});
    named.push_back(e);
  } else {
    // A source and an entry derived from it in one transaction.
    const std::string s = KeyName(static_cast<int>(rng() % kSources));
    const std::string d = KeyName(kSources + static_cast<int>(rng() % kDerived));
    t.Put(s, Value(rng));
    t.Put(d, Value(rng), {.related = {RelatedKey{s, 0}}});
    named = {s, d};
  }
  Result<uint64_t> uid = t.Commit(dur);
  if (!uid.ok()) {
    if (uid.status().IsConflict()) {
      n->conflicts++;
      return;
    }
    o->Violation("commit: " + uid.status().ToString());
    return;
  }
  if (derived.has_value()) o->Derived(*uid, *derived);
  if (named.size() == 2) o->Derived(*uid, {RelatedKey{named[0], *uid}});
  for (const std::string& k : named) o->Acked(k, *uid);
  n->commits++;
}

void ReadOnce(Cache* c, Oracle* o, Counters* n, std::mt19937_64& rng) {
  const std::array<uint64_t, kKeys> bound = o->Bounds();
  const int roll = static_cast<int>(rng() % 100);
  if (roll < 80) {
    const std::string k = KeyName(static_cast<int>(rng() % kKeys));
    Result<Entry> e = c->Get(k);
    if (e.ok()) {
      o->Check("Get", k, *e, bound);
    } else if (!e.status().IsNotFound()) {
      o->Violation("Get: " + e.status().ToString());
    }
    n->reads++;
  } else if (roll < 90) {
    std::map<std::string, Entry> all;
    const Status s = c->Scan("", [&](std::string_view k, const Entry& e) {
      all.emplace(std::string(k), e);
      return true;
    });
    if (!s.ok()) return o->Violation("Scan: " + s.ToString());
    for (const auto& [k, e] : all) o->Check("Scan", k, e, bound);
    o->CheckConsistent("Scan", all);
    n->scans++;
  } else {
    Result<Snapshot> snap = c->GetSnapshot();
    if (!snap.ok()) return o->Violation("GetSnapshot: " + snap.status().ToString());
    std::vector<std::string> names;
    for (int i = 0; i < kKeys; ++i) names.push_back(KeyName(i));
    std::vector<std::string_view> views(names.begin(), names.end());
    // Let commits and checkpoints go on while the snapshot is open.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
    Result<std::vector<std::optional<Entry>>> got = snap->MultiGet(views);
    if (!got.ok()) return o->Violation("Snapshot::MultiGet: " + got.status().ToString());
    std::map<std::string, Entry> all;
    for (int i = 0; i < kKeys; ++i) {
      if (!(*got)[i].has_value()) continue;
      const Entry& e = *(*got)[i];
      if (e.update_id > snap->update_id()) {
        o->Violation("Snapshot: '" + names[i] + "' at update_id " + std::to_string(e.update_id) +
                     " in a snapshot at " + std::to_string(snap->update_id()));
      }
      o->Check("Snapshot", names[i], e, bound);
      all.emplace(names[i], e);
    }
    o->CheckConsistent("Snapshot", all);
    n->snapshots++;
  }
}

struct RunResult {
  uint64_t commits = 0, scans_and_snapshots = 0, violations = 0;
  std::vector<std::string> first;  // the first violations, in words
};

// The cache's life for `length`: four writers, two readers, and a thread that checkpoints every
// millisecond or so; then a clean close. False if it could not open.
bool OneLife(const std::string& dir, std::chrono::milliseconds length, uint64_t life,
             Oracle* oracle, Counters* n) {
  Options opts;
  opts.memory_budget_bytes = 8 << 10;  // a few dozen entries: far below the data
  opts.checkpoint_dirty_bytes = 4 << 10;
  opts.checkpoint_interval = std::chrono::milliseconds(5);
  opts.sync_interval = std::chrono::milliseconds(1);
  Result<std::unique_ptr<Cache>> cache = Cache::Open(dir, opts);
  if (!cache.ok()) {
    oracle->Violation("open: " + cache.status().ToString());
    return false;
  }
  Cache* c = cache->get();
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  std::vector<std::thread> threads;
  auto spawn = [&](uint64_t seed, auto body) {
    running++;
    threads.emplace_back([&, seed, body] {
      std::mt19937_64 rng(seed * 1000 + life);
      while (!stop.load(std::memory_order_relaxed)) body(rng);
      running--;
    });
  };
  for (uint64_t i = 0; i < 4; ++i) {
    spawn(100 + i, [&](std::mt19937_64& rng) { WriteOnce(c, oracle, n, rng); });
  }
  for (uint64_t i = 0; i < 2; ++i) {
    spawn(200 + i, [&](std::mt19937_64& rng) { ReadOnce(c, oracle, n, rng); });
  }
  spawn(300, [&](std::mt19937_64& rng) {
    const bool compact = rng() % 50 == 0;  // now and then RocksDB's compaction filter runs
    const Status s = compact ? c->Compact() : c->Checkpoint();
    if (!s.ok())
      oracle->Violation(std::string(compact ? "Compact: " : "Checkpoint: ") + s.ToString());
    n->checkpoints++;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
  });

  // The watchdog: commits must keep returning, and every thread must stop when told.
  const auto end = std::chrono::steady_clock::now() + length;
  uint64_t last_commits = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) stop = true;
    const uint64_t commits = n->commits.load() + n->conflicts.load();
    if (commits != last_commits) {
      last_commits = commits;
      last_progress = now;
    } else if (now - last_progress > kStuckAfter) {
      std::fprintf(stderr,
                   "RealtimeStressTest: %s for %lld s (%llu commits, %llu conflicts): the commit "
                   "path is stuck\n",
                   stop ? "the threads did not stop" : "no commit returned",
                   static_cast<long long>(kStuckAfter.count()),
                   static_cast<unsigned long long>(n->commits.load()),
                   static_cast<unsigned long long>(n->conflicts.load()));
      std::abort();  // the stuck threads cannot be joined
    }
  }
  for (std::thread& t : threads) t.join();
  const Status closed = c->Close();
  if (!closed.ok()) oracle->Violation("Close: " + closed.ToString());
  return true;
}

// Runs the workload over a fresh cache in `dir` for `length`, in four lives: each reopen starts
// with memory empty, everything in RocksDB and the WAL's tail (the bounds hold across a clean
// close: it makes every acknowledged commit durable).
RunResult RunWorkload(const std::string& dir, std::chrono::milliseconds length) {
  constexpr int kLives = 4;
  Oracle oracle;
  Counters n;
  for (int life = 0; life < kLives; ++life) {
    if (!OneLife(dir, length / kLives, life, &oracle, &n)) break;
  }
  std::printf(
      "%llu commits, %llu conflicts, %llu gets, %llu scans, %llu snapshots, %llu "
      "checkpoints, %d lives, %llu violations\n",
      static_cast<unsigned long long>(n.commits.load()),
      static_cast<unsigned long long>(n.conflicts.load()),
      static_cast<unsigned long long>(n.reads.load()),
      static_cast<unsigned long long>(n.scans.load()),
      static_cast<unsigned long long>(n.snapshots.load()),
      static_cast<unsigned long long>(n.checkpoints.load()), kLives,
      static_cast<unsigned long long>(oracle.violation_count()));
  RunResult out;
  out.commits = n.commits.load();
  out.scans_and_snapshots = n.scans.load() + n.snapshots.load();
  out.violations = oracle.violation_count();
  out.first = oracle.violations();
  return out;
}

std::chrono::milliseconds Length(std::chrono::milliseconds otherwise) {
  const char* env = std::getenv("WALCACHE_STRESS_MS");
  return env != nullptr ? std::chrono::milliseconds(std::atoll(env)) : otherwise;
}

TEST(RealtimeStressTest, ReadsAfterAnAcknowledgementSeeItUnderEvictionAndCheckpoints) {
  test::ScratchDir dir;
  const RunResult r = RunWorkload(dir.Join("c"), Length(std::chrono::milliseconds(3000)));
  EXPECT_GT(r.commits, 0u);
  EXPECT_GT(r.scans_and_snapshots, 0u);
  EXPECT_EQ(r.violations, 0u);
  for (const std::string& v : r.first) ADD_FAILURE() << v;
}

// The oracle can fail: each planted bug that breaks what it checks is caught within the run.
class RealtimeStressPlantedTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RealtimeStressPlantedTest, IsCaught) {
  ASSERT_TRUE(InjectBug(GetParam()).ok());
  test::ScratchDir dir;
  const RunResult r = RunWorkload(dir.Join("c"), Length(std::chrono::milliseconds(3000)));
  ASSERT_TRUE(InjectBug("").ok());
  EXPECT_GT(r.violations, 0u) << GetParam() << " went uncaught over " << r.commits << " commits";
  if (!r.first.empty()) std::printf("first: %s\n", r.first.front().c_str());
}

INSTANTIATE_TEST_SUITE_P(Bugs, RealtimeStressPlantedTest,
                         ::testing::Values("skip-related-invalidation", "reorder-apply",
                                           "snapshot-unpinned", "index-skips-store",
                                           "index-forgets-unwritten",
                                           "index-cache-outlives-checkpoint"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           std::string n(i.param);
                           for (char& ch : n) {
                             if (ch == '-') ch = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace walcache
