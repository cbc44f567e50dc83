// SPDX-License-Identifier: Apache-2.0
// ReverseIndex (see reverse_index.h).
#include "engine/reverse_index.h"

namespace walcache::engine {
namespace {

// std::string keeps up to 15 bytes inline; longer ones are a heap block of their own.
size_t HeapOf(std::string_view s) { return s.size() > 15 ? s.size() + 1 : 0; }

// A std::map node (three pointers, a colour, the pair) with allocator slack; an unordered_map
// node (next pointer, cached hash, the pair holding an empty std::map) and its bucket.
constexpr size_t kEdgeNode = 96;
constexpr size_t kSourceNode = 112;

}  // namespace

size_t ReverseIndex::EdgeCharge(std::string_view dependent) {
  return kEdgeNode + HeapOf(dependent);
}

size_t ReverseIndex::SourceCharge(std::string_view source) { return kSourceNode + HeapOf(source); }

void ReverseIndex::Charge(int64_t delta) {
  bytes_ = static_cast<uint64_t>(static_cast<int64_t>(bytes_) + delta);
  if (charge_ && delta != 0) charge_(delta);
}

void ReverseIndex::Add(std::string_view source, std::string_view dependent, uint64_t seq) {
  MutexLock l(&mu_);
  int64_t delta = 0;
  auto it = edges_.find(std::string(source));
  if (it == edges_.end()) {
    it = edges_.try_emplace(std::string(source)).first;
    delta += static_cast<int64_t>(SourceCharge(source));
  }
  auto [e, added] = it->second.try_emplace(std::string(dependent), seq);
  if (added) {
    delta += static_cast<int64_t>(EdgeCharge(dependent));
    ++count_;
  } else if (e->second < seq) {
    e->second = seq;
  }
  Charge(delta);
}

void ReverseIndex::Drop(const std::string& source, const std::string& dependent) {
  MutexLock l(&mu_);
  auto it = edges_.find(source);
  if (it == edges_.end()) return;
  if (it->second.erase(dependent) == 0) return;
  --count_;
  int64_t delta = -static_cast<int64_t>(EdgeCharge(dependent));
  if (it->second.empty()) {
    delta -= static_cast<int64_t>(SourceCharge(source));
    edges_.erase(it);
  }
  Charge(delta);
}

void ReverseIndex::DropStored(uint64_t seq) {
  MutexLock l(&mu_);
  int64_t delta = 0;
  for (auto it = edges_.begin(); it != edges_.end();) {
    auto& deps = it->second;
    for (auto e = deps.begin(); e != deps.end();) {
      if (e->second > seq) {
        ++e;
        continue;
      }
      delta -= static_cast<int64_t>(EdgeCharge(e->first));
      --count_;
      e = deps.erase(e);
    }
    if (deps.empty()) {
      delta -= static_cast<int64_t>(SourceCharge(it->first));
      it = edges_.erase(it);
    } else {
      ++it;
    }
  }
  Charge(delta);
}

std::vector<std::string> ReverseIndex::DependentsOf(const std::string& source) const {
  MutexLock l(&mu_);
  auto it = edges_.find(source);
  if (it == edges_.end()) return {};
  std::vector<std::string> out;
  out.reserve(it->second.size());
  for (const auto& [dependent, seq] : it->second) out.push_back(dependent);
  return out;
}

uint64_t ReverseIndex::bytes() const {
  MutexLock l(&mu_);
  return bytes_;
}

uint64_t ReverseIndex::edges() const {
  MutexLock l(&mu_);
  return count_;
}

}  // namespace walcache::engine
