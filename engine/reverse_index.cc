// ReverseIndex (see reverse_index.h).
#include "engine/reverse_index.h"

namespace walcache::engine {

void ReverseIndex::Add(std::string_view source, std::string_view dependent) {
  MutexLock l(&mu_);
  edges_[std::string(source)].insert(std::string(dependent));
}

void ReverseIndex::Drop(const std::string& source, const std::string& dependent) {
  MutexLock l(&mu_);
  auto it = edges_.find(source);
  if (it == edges_.end()) return;
  it->second.erase(dependent);
  if (it->second.empty()) edges_.erase(it);
}

std::vector<std::string> ReverseIndex::DependentsOf(const std::string& source) const {
  MutexLock l(&mu_);
  auto it = edges_.find(source);
  if (it == edges_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

}  // namespace walcache::engine
