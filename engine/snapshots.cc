// SnapshotRegistry (see snapshots.h).
#include "engine/snapshots.h"

#include <algorithm>

#include "util/injected_bug.h"

namespace walcache::engine {

Result<uint64_t> SnapshotRegistry::Open(const std::function<Result<SnapshotPin>()>& take) {
  MutexLock l(&mu_);
  Result<SnapshotPin> pin = take();
  if (!pin.ok()) return pin.status();
  const uint64_t id = next_id_++;
  open_.emplace(id, *pin);
  Publish();
  return id;
}

SnapshotPin SnapshotRegistry::Close(uint64_t id) {
  MutexLock l(&mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return SnapshotPin{};
  const SnapshotPin pin = it->second;
  open_.erase(it);
  Publish();
  return pin;
}

void SnapshotRegistry::Barrier() { MutexLock l(&mu_); }

uint64_t SnapshotRegistry::OldestInstant() const {
  MutexLock l(&mu_);
  uint64_t t = UINT64_MAX;
  for (const auto& [id, pin] : open_) t = std::min(t, pin.now_ms);
  return t;
}

size_t SnapshotRegistry::open() const {
  MutexLock l(&mu_);
  return open_.size();
}

void SnapshotRegistry::Publish() {
  MemTable::Pins p;
  for (const auto& [id, pin] : open_) {
    p.floor = std::min(p.floor, pin.checkpoint);
    p.top = std::max(p.top, pin.seq);
    p.seqs.push_back(pin.seq);
  }
  if (open_.empty() || BugInjected(InjectedBug::kSnapshotUnpinned)) p = MemTable::Pins{};
  mem_->SetPins(p);
}

}  // namespace walcache::engine
