// SPDX-License-Identifier: Apache-2.0
// The public Snapshot, Cache::GetSnapshot and Cache::MultiGet, forwarding to CacheImpl's
// snapshot reads (engine/snapshot_read.cc) through the Lifeline.
//
// Thread-safety: reads hold the Lifeline shared (engine/lifeline.h); the snapshot's pin is
// immutable once taken.
#include "walcache/snapshot.h"

#include <string>
#include <utility>

#include "engine/cache_impl.h"
#include "engine/lifeline.h"
#include "walcache/cache.h"

namespace walcache {

struct Snapshot::State {
  std::shared_ptr<engine::Lifeline> life;
  uint64_t id = 0;
  engine::SnapshotPin pin;

  ~State() {
    std::shared_lock<std::shared_mutex> l(life->mu);
    if (life->impl != nullptr) life->impl->CloseSnapshot(id);  // else it went with the Cache
  }
};

Snapshot::Snapshot(std::unique_ptr<State> state) : state_(std::move(state)) {}
Snapshot::Snapshot(Snapshot&&) noexcept = default;
Snapshot& Snapshot::operator=(Snapshot&&) noexcept = default;
Snapshot::~Snapshot() = default;

uint64_t Snapshot::update_id() const { return state_ == nullptr ? 0 : state_->pin.seq; }

namespace {

Status Ended(const char* what) {
  return Status::Aborted(std::string(what) + ": the snapshot was moved from or its Cache is gone");
}

}  // namespace

Result<Entry> Snapshot::Get(std::string_view key) const {
  if (state_ == nullptr) return Ended("Snapshot::Get");
  std::shared_lock<std::shared_mutex> l(state_->life->mu);
  if (state_->life->impl == nullptr) return Ended("Snapshot::Get");
  Result<std::optional<Entry>> e = state_->life->impl->SnapshotGet(state_->pin, key);
  if (!e.ok()) return e.status();
  if (!e->has_value()) return Status::NotFound(key);
  return std::move(**e);
}

Result<std::vector<std::optional<Entry>>> Snapshot::MultiGet(
    const std::vector<std::string_view>& keys) const {
  if (state_ == nullptr) return Ended("Snapshot::MultiGet");
  std::shared_lock<std::shared_mutex> l(state_->life->mu);
  if (state_->life->impl == nullptr) return Ended("Snapshot::MultiGet");
  std::vector<std::optional<Entry>> out;
  out.reserve(keys.size());
  for (std::string_view key : keys) {
    Result<std::optional<Entry>> e = state_->life->impl->SnapshotGet(state_->pin, key);
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
  }
  return out;
}

Status Snapshot::Scan(std::string_view prefix,
                      const std::function<bool(std::string_view, const Entry&)>& visit) const {
  if (state_ == nullptr) return Ended("Snapshot::Scan");
  std::vector<std::pair<std::string, Entry>> matches;
  {
    // Collected under the Lifeline and visited after, so `visit` may use the cache freely.
    std::shared_lock<std::shared_mutex> l(state_->life->mu);
    if (state_->life->impl == nullptr) return Ended("Snapshot::Scan");
    Status s = state_->life->impl->SnapshotScan(state_->pin, prefix,
                                                [&](std::string_view key, const Entry& e) {
                                                  matches.emplace_back(std::string(key), e);
                                                  return true;
                                                });
    if (!s.ok()) return s;
  }
  for (const auto& [key, e] : matches) {
    if (!visit(key, e)) break;
  }
  return Status::OK();
}

Result<Snapshot> Cache::GetSnapshot() {
  if (impl_ == nullptr) return Status::Aborted("GetSnapshot: the Cache is closed");
  auto state = std::make_unique<Snapshot::State>();
  state->life = life_;
  Result<uint64_t> id = impl_->OpenSnapshot(&state->pin);
  if (!id.ok()) {
    state->life = std::make_shared<engine::Lifeline>();  // nothing to close
    return id.status();
  }
  state->id = *id;
  return Snapshot(std::move(state));
}

Result<std::vector<std::optional<Entry>>> Cache::MultiGet(
    const std::vector<std::string_view>& keys) {
  Result<Snapshot> snap = GetSnapshot();
  if (!snap.ok()) return snap.status();
  return snap->MultiGet(keys);
}

}  // namespace walcache
