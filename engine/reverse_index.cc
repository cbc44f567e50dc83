// ReverseIndex (see reverse_index.h).
#include "engine/reverse_index.h"

#include <algorithm>
#include <functional>

#include "util/injected_bug.h"
#include "util/kill_point.h"

namespace walcache::engine {
namespace {

// What an edge costs in memory beyond its keys: a map node (and, for a source's first edge, the
// hash node and its map).
constexpr size_t kEdgeOverhead = 64;
constexpr size_t kSourceOverhead = 96;
// A cached list: its hash node, FIFO node and hook, and each dependent's string.
constexpr size_t kCachedListOverhead = 160;
constexpr size_t kCachedDependentOverhead = 32;

}  // namespace

size_t ReverseIndex::HashOf(std::string_view source) {
  return std::hash<std::string_view>()(source);
}

void ReverseIndex::Add(std::string_view source, std::string_view dependent, uint64_t seq) {
  MutexLock l(&mu_);
  bool new_source = false;
  auto& deps = edges_.FindOrInsert(source, HashOf(source), &new_source)->value;
  if (new_source) bytes_ += source.size() + kSourceOverhead;
  auto dit = deps.find(dependent);
  if (dit == deps.end()) {
    deps.emplace(std::string(dependent), seq);
    bytes_ += dependent.size() + kEdgeOverhead;
    ++count_;
  } else {
    dit->second = std::max(dit->second, seq);
  }
}

void ReverseIndex::Drop(const std::string& source, const std::string& dependent) {
  MutexLock l(&mu_);
  // The edge is stale: a version naming the source again adds it to memory (Add).
  EditCached(source, dependent, /*add=*/false);
  const size_t hash = HashOf(source);
  auto* node = edges_.Find(source, hash);
  if (node == nullptr) return;
  if (node->value.erase(dependent) > 0) {
    bytes_ -= dependent.size() + kEdgeOverhead;
    --count_;
  }
  if (node->value.empty()) {
    bytes_ -= source.size() + kSourceOverhead;
    edges_.Erase(source, hash);
  }
}

std::vector<std::string> MergeKeys(std::vector<std::string> a, const std::vector<std::string>& b) {
  if (b.empty()) return a;
  if (a.empty()) return b;
  std::vector<std::string> merged;
  merged.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged));
  return merged;
}

std::vector<std::string> ReverseIndex::MemoryDependentsOf(const std::string& source) const {
  std::vector<std::string> out;
  MutexLock l(&mu_);
  if (const auto* node = edges_.Find(source, HashOf(source))) {
    for (const auto& [dependent, seq] : node->value) out.push_back(dependent);
  }
  return out;
}

size_t ReverseIndex::Charge(const std::string& source, const std::vector<std::string>& dependents) {
  size_t n = kCachedListOverhead + source.size();
  for (const std::string& d : dependents) n += kCachedDependentOverhead + d.size();
  return n;
}

void ReverseIndex::EditCached(const std::string& source, const std::string& dependent, bool add) {
  auto c = cache_.find(source);
  if (c == cache_.end()) return;
  std::vector<std::string>& deps = c->second.dependents;
  auto d = std::lower_bound(deps.begin(), deps.end(), dependent);
  const bool there = d != deps.end() && *d == dependent;
  if (there == add) return;
  if (add) {
    deps.insert(d, dependent);
  } else {
    deps.erase(d);
  }
  cache_fifo_.Recharge(&c->second, Charge(source, deps));
}

Result<std::vector<std::string>> ReverseIndex::StoredDependentsOf(const std::string& source) {
  // Planted: the stored index is not consulted, so what a checkpoint moved there is missed.
  if (BugInjected(InjectedBug::kIndexSkipsStore)) return std::vector<std::string>();
  uint64_t generation;
  {
    MutexLock l(&mu_);
    if (auto c = cache_.find(source); c != cache_.end()) {
      S3Fifo<CachedList>::Access(&c->second);
      ++cache_hits_;
      return c->second.dependents;
    }
    ++cache_misses_;
    generation = generation_;
  }
  Result<std::vector<std::string>> stored = store_->Dependents(source);  // outside the lock
  if (!stored.ok() || cache_capacity_ == 0) return stored;
  WALCACHE_KILL_POINT(kEngineIndexRead);  // a checkpoint landing here must keep it uncached
  const size_t charge = Charge(source, *stored);
  // Planted: the list is cached even when a checkpoint stored new edges since the read.
  const bool ignore_generation = BugInjected(InjectedBug::kIndexFillIgnoresGeneration);
  MutexLock l(&mu_);
  if ((!ignore_generation && generation != generation_) || charge > cache_capacity_) return stored;
  auto [c, inserted] = cache_.try_emplace(source);
  if (!inserted) return stored;  // another reader cached it meanwhile
  c->second.source = &c->first;
  c->second.dependents = *stored;
  cache_fifo_.Insert(&c->second, std::hash<std::string>()(source), charge);
  // The drop runs inside Evict, under mu_ (which the analysis cannot see through the lambda).
  cache_fifo_.Evict([](const CachedList*) { return false; },
                    [&](CachedList* evicted)
                        NO_THREAD_SAFETY_ANALYSIS { cache_.erase(cache_.find(*evicted->source)); });
  return stored;
}

void ReverseIndex::Checkpointed(uint64_t seq) {
  // Planted: every edge leaves memory, also those of versions after the checkpoint's seq,
  // which the store does not have yet.
  const bool all = BugInjected(InjectedBug::kIndexForgetsUnwritten);
  // Planted: a cached stored list outlives the checkpoint that added to the store's.
  const bool keep_cached = BugInjected(InjectedBug::kIndexCacheOutlivesCheckpoint);
  MutexLock l(&mu_);
  ++generation_;
  for (size_t i = 0; i < edges_.capacity(); ++i) {
    auto* node = edges_.At(i);
    if (node == nullptr) continue;
    auto& deps = node->value;
    for (auto dit = deps.begin(); dit != deps.end();) {
      if (all || dit->second <= seq) {
        // The store has the edge now; so must the source's cached list, if it has one. (Not
        // an edge the planted bug drops unstored: it is lost, as the bug means.)
        if (!keep_cached && dit->second <= seq) EditCached(node->key, dit->first, /*add=*/true);
        bytes_ -= dit->first.size() + kEdgeOverhead;
        --count_;
        dit = deps.erase(dit);
      } else {
        ++dit;
      }
    }
    if (deps.empty()) {
      bytes_ -= node->key.size() + kSourceOverhead;
      edges_.Erase(node->key, HashOf(node->key));  // leaves slot i a tombstone
    }
  }
}

uint64_t ReverseIndex::generation() const {
  MutexLock l(&mu_);
  return generation_;
}

ReverseIndex::CacheCounters ReverseIndex::cache_counters() const {
  MutexLock l(&mu_);
  return CacheCounters{cache_.size(), cache_fifo_.bytes(), cache_hits_, cache_misses_};
}

size_t ReverseIndex::edges() const {
  MutexLock l(&mu_);
  return count_;
}

size_t ReverseIndex::bytes() const {
  MutexLock l(&mu_);
  return bytes_;
}

}  // namespace walcache::engine
