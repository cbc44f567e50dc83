// ReverseIndex (see reverse_index.h).
#include "engine/reverse_index.h"

#include <algorithm>

#include "util/injected_bug.h"

namespace walcache::engine {
namespace {

// What an edge costs in memory beyond its keys: a map node (and, for a source's first edge, the
// hash node and its map).
constexpr size_t kEdgeOverhead = 64;
constexpr size_t kSourceOverhead = 96;

}  // namespace

void ReverseIndex::Add(std::string_view source, std::string_view dependent, uint64_t seq) {
  MutexLock l(&mu_);
  auto [sit, new_source] = edges_.try_emplace(std::string(source));
  if (new_source) bytes_ += source.size() + kSourceOverhead;
  auto dit = sit->second.find(dependent);
  if (dit == sit->second.end()) {
    sit->second.emplace(std::string(dependent), seq);
    bytes_ += dependent.size() + kEdgeOverhead;
    ++count_;
  } else {
    dit->second = std::max(dit->second, seq);
  }
}

void ReverseIndex::Drop(const std::string& source, const std::string& dependent) {
  MutexLock l(&mu_);
  auto it = edges_.find(source);
  if (it == edges_.end()) return;
  if (it->second.erase(dependent) > 0) {
    bytes_ -= dependent.size() + kEdgeOverhead;
    --count_;
  }
  if (it->second.empty()) {
    bytes_ -= source.size() + kSourceOverhead;
    edges_.erase(it);
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
  auto it = edges_.find(source);
  if (it != edges_.end()) {
    for (const auto& [dependent, seq] : it->second) out.push_back(dependent);
  }
  return out;
}

Result<std::vector<std::string>> ReverseIndex::StoredDependentsOf(const std::string& source) const {
  // Planted: the stored index is not consulted, so what a checkpoint moved there is missed.
  if (BugInjected(InjectedBug::kIndexSkipsStore)) return std::vector<std::string>();
  return store_->Dependents(source);
}

void ReverseIndex::Checkpointed(uint64_t seq) {
  // Planted: every edge leaves memory, also those of versions after the checkpoint's seq,
  // which the store does not have yet.
  const bool all = BugInjected(InjectedBug::kIndexForgetsUnwritten);
  MutexLock l(&mu_);
  for (auto sit = edges_.begin(); sit != edges_.end();) {
    auto& deps = sit->second;
    for (auto dit = deps.begin(); dit != deps.end();) {
      if (all || dit->second <= seq) {
        bytes_ -= dit->first.size() + kEdgeOverhead;
        --count_;
        dit = deps.erase(dit);
      } else {
        ++dit;
      }
    }
    if (deps.empty()) {
      bytes_ -= sit->first.size() + kSourceOverhead;
      sit = edges_.erase(sit);
    } else {
      ++sit;
    }
  }
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
