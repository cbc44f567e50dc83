// MemTable (see mem_table.h).
#include "engine/mem_table.h"

#include <algorithm>

namespace walcache::engine {

MemTable::MemTable(const std::atomic<uint64_t>* visible, size_t shards)
    : visible_(visible), shards_(shards) {}

MemTable::Shard& MemTable::ShardOf(std::string_view key) const {
  const size_t h = std::hash<std::string_view>()(key);
  return const_cast<Shard&>(shards_[h % shards_.size()]);
}

const Version* MemTable::NewestAtOrBelow(const Slot& s, uint64_t max_seq) {
  for (auto it = s.versions.rbegin(); it != s.versions.rend(); ++it) {
    if (it->seq <= max_seq) return &*it;
  }
  return nullptr;
}

std::optional<Version> MemTable::Read(std::string_view key) const {
  Shard& sh = ShardOf(key);
  std::lock_guard<std::mutex> l(sh.mu);
  auto it = sh.map.find(std::string(key));
  if (it == sh.map.end()) return std::nullopt;
  const Version* v = NewestAtOrBelow(it->second, visible_->load(std::memory_order_acquire));
  if (v == nullptr) return std::nullopt;
  return *v;
}

std::optional<Version> MemTable::ReadLatest(std::string_view key) const {
  Shard& sh = ShardOf(key);
  std::lock_guard<std::mutex> l(sh.mu);
  auto it = sh.map.find(std::string(key));
  if (it == sh.map.end() || it->second.versions.empty()) return std::nullopt;
  return it->second.versions.back();
}

void MemTable::Add(std::string_view key, Version v, uint64_t keep) {
  Shard& sh = ShardOf(key);
  std::lock_guard<std::mutex> l(sh.mu);
  Slot& slot = sh.map[std::string(key)];
  // Keep the newest version at or below `keep` (readers or a checkpoint need it); drop older.
  auto& vs = slot.versions;
  size_t newest_visible = vs.size();
  for (size_t i = 0; i < vs.size(); ++i) {
    if (vs[i].seq <= keep) newest_visible = i;
  }
  if (newest_visible != vs.size() && newest_visible > 0) {
    vs.erase(vs.begin(), vs.begin() + static_cast<std::ptrdiff_t>(newest_visible));
  }
  vs.push_back(std::move(v));
  slot.dirty = true;
}

bool MemTable::Fill(std::string_view key, Entry e, uint64_t generation,
                    std::optional<Version>* seen) {
  Shard& sh = ShardOf(key);
  std::lock_guard<std::mutex> l(sh.mu);
  auto it = sh.map.find(std::string(key));
  if (it == sh.map.end()) {
    if (erase_gen_.load(std::memory_order_acquire) != generation) return false;
    it = sh.map.try_emplace(std::string(key)).first;
    it->second.versions.push_back(Version{0, std::move(e)});
  }
  const Version* v = NewestAtOrBelow(it->second, visible_->load(std::memory_order_acquire));
  // Only invisible versions in memory: what readers see is still RocksDB's (read just now).
  *seen = v == nullptr ? Version{0, std::move(e)} : *v;
  return true;
}

void MemTable::ForEachDirty(
    uint64_t seq, const std::function<void(const std::string&, const Version&)>& visit) const {
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    for (const auto& [key, slot] : sh.map) {
      if (!slot.dirty) continue;
      const Version* v = NewestAtOrBelow(slot, seq);
      if (v != nullptr) visit(key, *v);
    }
  }
}

void MemTable::MarkCheckpointed(uint64_t seq) {
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    for (auto it = sh.map.begin(); it != sh.map.end();) {
      Slot& slot = it->second;
      if (slot.dirty) {
        auto& vs = slot.versions;
        // Versions older than the newest one at or below `seq` are in RocksDB or superseded.
        size_t keep_from = 0;
        for (size_t i = 0; i < vs.size(); ++i) {
          if (vs[i].seq <= seq) keep_from = i;
        }
        vs.erase(vs.begin(), vs.begin() + static_cast<std::ptrdiff_t>(keep_from));
        slot.dirty = vs.back().seq > seq;
        if (!slot.dirty && vs.size() == 1 && !vs[0].entry.has_value()) {
          erase_gen_.fetch_add(1, std::memory_order_acq_rel);
          it = sh.map.erase(it);  // RocksDB has the delete; memory need not remember it
          continue;
        }
      }
      ++it;
    }
  }
}

void MemTable::ForEachPrefix(
    std::string_view prefix,
    const std::function<void(const std::string&, const Version&)>& visit) const {
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    const uint64_t max_seq = visible_->load(std::memory_order_acquire);
    for (const auto& [key, slot] : sh.map) {
      if (!std::string_view(key).starts_with(prefix)) continue;
      const Version* v = NewestAtOrBelow(slot, max_seq);
      if (v != nullptr) visit(key, *v);
    }
  }
}

size_t MemTable::keys() const {
  size_t n = 0;
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    n += sh.map.size();
  }
  return n;
}

size_t MemTable::dirty_keys() const {
  size_t n = 0;
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    for (const auto& [key, slot] : sh.map) n += slot.dirty ? 1 : 0;
  }
  return n;
}

}  // namespace walcache::engine
