// The eviction study (see hit_ratio.h).
#include "tools/hit_ratio.h"

#include <list>
#include <memory>
#include <random>
#include <unordered_map>

#include "engine/mem_table.h"
#include "engine/s3fifo.h"
#include "tools/zipf.h"
#include "util/status_macros.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

// A cache of `capacity` equal-size items; Access returns whether it hit and admits on a miss.
class Policy {
 public:
  virtual ~Policy() = default;
  virtual bool Access(uint64_t key) = 0;
};

class Lru final : public Policy {
 public:
  explicit Lru(size_t capacity) : capacity_(capacity) {}
  bool Access(uint64_t key) override {
    auto it = where_.find(key);
    if (it != where_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    order_.push_front(key);
    where_[key] = order_.begin();
    if (order_.size() > capacity_) {
      where_.erase(order_.back());
      order_.pop_back();
    }
    return false;
  }

 private:
  size_t capacity_;
  std::list<uint64_t> order_;  // front: most recent
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where_;
};

class Clock final : public Policy {
 public:
  explicit Clock(size_t capacity) : keys_(capacity), ref_(capacity, 0) {}
  bool Access(uint64_t key) override {
    auto it = where_.find(key);
    if (it != where_.end()) {
      ref_[it->second] = 1;
      return true;
    }
    if (used_ < keys_.size()) {
      Place(used_++, key);
      return false;
    }
    while (ref_[hand_] != 0) {  // second chance
      ref_[hand_] = 0;
      hand_ = (hand_ + 1) % keys_.size();
    }
    where_.erase(keys_[hand_]);
    Place(hand_, key);
    hand_ = (hand_ + 1) % keys_.size();
    return false;
  }

 private:
  void Place(size_t i, uint64_t key) {
    keys_[i] = key;
    ref_[i] = 0;
    where_[key] = i;
  }
  std::vector<uint64_t> keys_;
  std::vector<uint8_t> ref_;
  std::unordered_map<uint64_t, size_t> where_;
  size_t used_ = 0, hand_ = 0;
};

// The engine's own policy class, with unit charges.
class S3 final : public Policy {
 public:
  S3(size_t capacity, unsigned move_threshold) : fifo_(capacity, move_threshold) {}
  bool Access(uint64_t key) override {
    auto it = items_.find(key);
    if (it != items_.end()) {
      engine::S3Fifo<Item>::Access(&it->second);
      return true;
    }
    Item& item = items_[key];
    item.key = key;
    fifo_.Insert(&item, key, 1);
    fifo_.Evict([](const Item*) { return false; }, [&](Item* i) { items_.erase(i->key); });
    return false;
  }

 private:
  struct Item {
    uint64_t key = 0;
    engine::S3Fifo<Item>::Hook s3fifo;
  };
  engine::S3Fifo<Item> fifo_;
  std::unordered_map<uint64_t, Item> items_;
};

struct Trace {
  std::string name;
  std::vector<uint64_t> requests;
};

// Zipf(theta) over `keys`; with `scan_share`, that share of the requests instead walks once
// through keys never seen before (a backup job, a batch export).
Trace MakeTrace(uint64_t keys, uint64_t requests, double theta, double scan_share) {
  Trace t;
  char name[64];
  std::snprintf(name, sizeof(name), "zipf-%.2f%s", theta, scan_share > 0 ? "+scan" : "");
  t.name = name;
  std::mt19937_64 rng(static_cast<uint64_t>(theta * 1000) + (scan_share > 0 ? 7 : 0));
  const Zipf zipf(keys, theta);
  std::bernoulli_distribution scan(scan_share);
  uint64_t next_scan_key = keys;
  t.requests.reserve(requests);
  for (uint64_t i = 0; i < requests; ++i) {
    t.requests.push_back(scan_share > 0 && scan(rng) ? next_scan_key++ : zipf.Next(rng));
  }
  return t;
}

double Replay(Policy* p, const Trace& t) {
  uint64_t hits = 0;
  for (uint64_t k : t.requests) hits += p->Access(k) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(t.requests.size());
}

std::string KeyName(uint64_t rank) { return "k" + std::to_string(rank); }

// The real engine on the trace: a Cache whose budget holds `fraction` of the keys, reopened
// empty, then Gets in trace order; the hit ratio is what its Stats counted.
Result<double> EngineHitRatio(const HitRatioSpec& spec, const Trace& t, double fraction) {
  const std::string value(spec.value_size, 'v');
  Options o;
  o.durability = Durability::kBuffered;
  const Entry sample{value, 1, 0, {}};
  o.memory_budget_bytes = static_cast<size_t>(
      fraction * static_cast<double>(spec.keys) *
      static_cast<double>(engine::MemTable::EntryCharge(KeyName(spec.keys / 2), sample)));
  {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Cache> c, Cache::Open(spec.dir, o));
    for (uint64_t k = 0; k < spec.keys; ++k) {
      WALCACHE_RETURN_IF_ERROR(c->Put(KeyName(k), value).status());
    }
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Cache> c, Cache::Open(spec.dir, o));
  const CacheStats before = c->Stats();
  for (uint64_t k : t.requests) {
    Result<Entry> e = c->Get(KeyName(k));
    if (!e.ok()) return Status::Corruption("key " + KeyName(k) + ": " + e.status().ToString());
  }
  const CacheStats after = c->Stats();
  return static_cast<double>(after.read_hits_memory - before.read_hits_memory) /
         static_cast<double>(after.reads - before.reads);
}

}  // namespace

Result<std::vector<HitRatioRow>> RunHitRatioStudy(const HitRatioSpec& spec) {
  if (spec.keys < 1000) return Status::InvalidArgument("hit-ratio needs at least 1000 keys");
  std::vector<Trace> traces;
  for (double theta : {0.7, 0.9, 0.99}) {
    traces.push_back(MakeTrace(spec.keys, spec.requests, theta, 0));
  }
  traces.push_back(MakeTrace(spec.keys, spec.requests, 0.99, 0.2));
  std::vector<HitRatioRow> rows;
  for (const Trace& t : traces) {
    for (double fraction : {0.001, 0.01, 0.1}) {
      const auto capacity = static_cast<size_t>(fraction * static_cast<double>(spec.keys));
      auto add = [&](const char* name, std::unique_ptr<Policy> p) {
        rows.push_back(HitRatioRow{t.name, name, fraction, Replay(p.get(), t)});
      };
      add("lru", std::make_unique<Lru>(capacity));
      add("clock", std::make_unique<Clock>(capacity));
      add("s3fifo", std::make_unique<S3>(capacity, 1));
      add("s3fifo-t2", std::make_unique<S3>(capacity, 2));
    }
  }
  if (!spec.dir.empty()) {
    const Trace& t = traces[2];  // zipf-0.99
    WALCACHE_ASSIGN_OR_RETURN(double ratio, EngineHitRatio(spec, t, 0.1));
    rows.push_back(HitRatioRow{t.name, "engine", 0.1, ratio});
  }
  return rows;
}

}  // namespace walcache::tools
