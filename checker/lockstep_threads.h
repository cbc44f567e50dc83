// The threads that run beside the lockstep checker's committer (checker/lockstep.h): Readers,
// which check what no read may return whatever the timing, and a Compactor calling Compact().
// Internal to checker/lockstep.cc.
//
// Thread-safety: each class is driven by one thread (Start/Stop); the rest is thread-safe.
#ifndef WALCACHE_CHECKER_LOCKSTEP_THREADS_H_
#define WALCACHE_CHECKER_LOCKSTEP_THREADS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "checker/read_hold.h"
#include "checker/workload.h"
#include "walcache/cache.h"

namespace walcache::checker {

// Readers beside the committer: each reads keys at random, all the time, and checks what no
// read may return whatever the timing — a key's updateId never going back for one reader
// (monotonic reads), a read that began after a commit writing the key returned seeing that
// updateId or a later one, and the bug report's race: after a source was read at v, an entry
// derived from it that is read next never carries it below v. Now and then a read-through
// waits between RocksDB's answer and the fill (checker/read_hold.h), so that commits,
// checkpoints and evictions land inside it.
class Readers {
 public:
  void Start(Cache* c, int n, uint64_t seed, const Generator* gen) {
    stop_ = false;
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this, c, gen, seed, i] { Loop(c, gen, seed * 31 + i); });
    }
  }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  // After a commit at `uid` returned: reads of `keys` that begin from now on see it.
  void Published(const std::vector<std::string>& keys, uint64_t uid) {
    std::lock_guard<std::mutex> l(mu_);
    for (const std::string& k : keys) floor_[k] = std::max(floor_[k], uid);
  }
  std::string failure() const {
    std::lock_guard<std::mutex> l(mu_);
    return failure_;
  }
  uint64_t reads() const { return reads_.load(); }

 private:
  uint64_t Floor(const std::string& key) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = floor_.find(key);
    return it == floor_.end() ? 0 : it->second;
  }
  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> l(mu_);
    if (failure_.empty()) failure_ = "a concurrent reader: " + what;
  }
  void Loop(Cache* c, const Generator* gen, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::map<std::string, uint64_t> seen;  // key -> the newest updateId this reader saw
    auto read = [&](const std::string& key) -> std::optional<Entry> {
      const uint64_t floor = Floor(key);
      Result<Entry> e = [&] {
        ReadHold::Reading hold;  // now and then a read-through waits before it fills
        return c->Get(key);
      }();
      reads_++;
      if (!e.ok()) {
        if (!e.status().IsNotFound()) Fail("Get(" + key + "): " + e.status().ToString());
        return std::nullopt;
      }
      if (e->update_id < floor) {
        Fail("'" + key + "' read at update_id " + std::to_string(e->update_id) +
             " after a commit writing it at " + std::to_string(floor) + " returned");
      }
      uint64_t& last = seen[key];
      if (e->update_id < last) {
        Fail("'" + key + "' read at update_id " + std::to_string(e->update_id) + " after " +
             std::to_string(last) + " (reads went back)");
      }
      last = std::max(last, e->update_id);
      return std::move(e).value();
    };
    while (!stop_.load()) {
      const std::string key = gen->AnyKey(rng);
      const uint64_t held = ReadHold::HeldOnThisThread();
      std::optional<Entry> e = read(key);
      if (ReadHold::HeldOnThisThread() != held) e = read(key);  // held: again at once
      if (!e.has_value() || e->related.empty()) continue;
      const RelatedKey r = e->related[rng() % e->related.size()];
      std::optional<Entry> src = read(r.key);
      if (!src.has_value()) continue;
      std::optional<Entry> again = read(key);
      if (!again.has_value()) continue;
      for (const RelatedKey& rr : again->related) {
        if (rr.key == r.key && rr.update_id < src->update_id) {
          Fail("'" + key + "' read derived from '" + r.key + "' at update_id " +
               std::to_string(rr.update_id) + " after '" + r.key + "' was read at " +
               std::to_string(src->update_id));
        }
      }
    }
  }

  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> floor_;
  std::string failure_;
  std::atomic<uint64_t> reads_{0};
};

// Compact() from a thread of its own, every few milliseconds: commits land between a
// checkpoint's pin and the compaction after it, and beside RocksDB's own compactions.
class Compactor {
 public:
  void Start(Cache* c, uint64_t seed) {
    stop_ = false;
    thread_ = std::thread([this, c, seed] {
      std::mt19937_64 rng(seed);
      while (!stop_.load()) {
        std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 4000));
        if (!c->Compact().ok()) break;  // a failed cache: the committer sees it too
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_LOCKSTEP_THREADS_H_
