// MemTable (see mem_table.h).
#include "engine/mem_table.h"

#include <algorithm>

namespace walcache::engine {
namespace {

// Per key: its share of the shard's index array (16 bytes a slot, 3/8 to 3/4 of them
// full), the node with the key string and the slot, its queue node and allocator slack. Measured
// (RSS growth over 1M keys of 16 bytes with 8-byte values): 299 bytes a key, charged 304, with
// the unordered_map index; with the flat one and each key's cached stored-index list, 509 bytes,
// charged 480 (docs/sizing.md).
constexpr size_t kKeyOverhead = 192;
constexpr size_t kVersionOverhead = sizeof(Version);

}  // namespace

size_t MemTable::ShardsFor(size_t budget_bytes) {
  return std::clamp<size_t>(budget_bytes / kMinShardBytes, 1, 64);
}

MemTable::MemTable(const std::atomic<uint64_t>* visible, size_t budget_bytes, size_t shards)
    : visible_(visible), budget_(budget_bytes), shards_(shards) {
  for (Shard& sh : shards_) sh.fifo.set_capacity(budget_bytes / shards);
}

MemTable::Shard& MemTable::ShardOf(size_t hash) const {
  // The low bits pick the hash bucket inside the shard's map; the shard uses the high bits.
  return const_cast<Shard&>(shards_[(hash >> 32) % shards_.size()]);
}

const Version* MemTable::NewestAtOrBelow(const Slot& s, uint64_t max_seq) {
  for (auto it = s.versions.rbegin(); it != s.versions.rend(); ++it) {
    if (it->seq <= max_seq) return &*it;
  }
  return nullptr;
}

bool MemTable::Pinned(const Slot& s, const Pins& p) {
  for (const Version& v : s.versions) {
    if (v.seq > p.floor && v.seq <= p.top) return true;
  }
  return false;
}

void MemTable::Trim(std::vector<Version>* vs, uint64_t keep, const Pins& p) {
  auto newest_at_or_below = [&](uint64_t seq) {
    size_t found = vs->size();
    for (size_t i = 0; i < vs->size() && (*vs)[i].seq <= seq; ++i) found = i;
    return found;
  };
  const size_t newest = newest_at_or_below(keep);
  if (newest == vs->size() || newest == 0) return;
  if (p.seqs.empty()) {
    vs->erase(vs->begin(), vs->begin() + static_cast<std::ptrdiff_t>(newest));
    return;
  }
  std::vector<bool> needed(newest, false);
  for (uint64_t seq : p.seqs) {
    const size_t i = newest_at_or_below(seq);
    if (i < newest) needed[i] = true;
  }
  size_t out = 0;
  for (size_t i = 0; i < vs->size(); ++i) {
    if (i < newest && !needed[i]) continue;
    if (out != i) (*vs)[out] = std::move((*vs)[i]);  // never onto itself: that empties it
    ++out;
  }
  vs->resize(out);
}

void MemTable::SetPins(const Pins& pins) {
  std::lock_guard<std::mutex> l(pins_mu_);
  pins_ = pins;
  pins_active_.store(pins.top != 0, std::memory_order_release);
}

MemTable::Pins MemTable::pins() const {
  if (!pins_active_.load(std::memory_order_acquire)) return Pins{};
  std::lock_guard<std::mutex> l(pins_mu_);
  return pins_;
}

size_t MemTable::ChargeOf(const Slot& s) {
  size_t c = kKeyOverhead + s.key->size();
  for (const Version& v : s.versions) {
    c += kVersionOverhead;
    if (!v.entry.has_value()) continue;
    c += v.entry->value.size();
    for (const RelatedKey& r : v.entry->related) c += sizeof(RelatedKey) + r.key.size();
  }
  return c;
}

size_t MemTable::EntryCharge(std::string_view key, const Entry& e) {
  size_t c = kKeyOverhead + kVersionOverhead + key.size() + e.value.size();
  for (const RelatedKey& r : e.related) c += sizeof(RelatedKey) + r.key.size();
  return c;
}

MemTable::Slot& MemTable::SlotFor(Shard& sh, const HashedKey& k, bool warm) {
  if (FlatKeyMap<Slot>::Node* node = sh.map.Find(k.key, k.hash)) return node->value;
  return NewSlot(sh, k, warm);
}

MemTable::Slot& MemTable::NewSlot(Shard& sh, const HashedKey& k, bool warm) {
  FlatKeyMap<Slot>::Node* node = sh.map.Insert(k.key, k.hash);
  Slot& s = node->value;
  s.key = &node->key;
  const size_t charge = ChargeOf(s);
  sh.fifo.Insert(&s, k.hash, charge, warm);
  bytes_.fetch_add(charge, std::memory_order_relaxed);
  return s;
}

void MemTable::Settle(Shard& sh, Slot& s, size_t old_charge, bool was_dirty) {
  const size_t charge = ChargeOf(s);
  sh.fifo.Recharge(&s, charge);
  bytes_.fetch_add(charge - old_charge, std::memory_order_relaxed);  // modular: may shrink
  if (was_dirty) dirty_bytes_.fetch_sub(old_charge, std::memory_order_relaxed);
  if (s.dirty) dirty_bytes_.fetch_add(charge, std::memory_order_relaxed);
}

void MemTable::Erase(Shard& sh, Slot& s, bool queued) {
  if (queued) sh.fifo.Remove(&s);
  bytes_.fetch_sub(s.s3fifo.charge, std::memory_order_relaxed);
  if (s.dirty) dirty_bytes_.fetch_sub(s.s3fifo.charge, std::memory_order_relaxed);
  // Before the key goes: a read-through that started earlier must not cache its older read.
  sh.erase_gen.fetch_add(1, std::memory_order_acq_rel);
  sh.map.Erase(*s.key, Hash()(*s.key));  // frees s
}

void MemTable::EvictLocked(Shard& sh) {
  if (sh.fifo.bytes() <= sh.fifo.capacity()) return;
  const Pins p = pins();
  sh.evictions += sh.fifo.Evict([&](const Slot* s) { return s->dirty || Pinned(*s, p); },
                                [&](Slot* s) { Erase(sh, *s, /*queued=*/false); });
}

std::optional<Version> MemTable::Read(std::string_view key) const {
  const HashedKey k = Hashed(key);
  Shard& sh = ShardOf(k.hash);
  std::lock_guard<std::mutex> l(sh.mu);
  FlatKeyMap<Slot>::Node* node = sh.map.Find(k.key, k.hash);  // the queue's hook is mutable
  const Version* v = nullptr;
  if (node != nullptr) {
    v = NewestAtOrBelow(node->value, visible_->load(std::memory_order_acquire));
  }
  if (v == nullptr) {
    ++sh.misses;
    return std::nullopt;
  }
  ++sh.hits;
  S3Fifo<Slot>::Access(&node->value);
  return *v;
}

std::optional<Version> MemTable::ReadAt(std::string_view key, uint64_t seq, uint64_t floor) const {
  const HashedKey k = Hashed(key);
  Shard& sh = ShardOf(k.hash);
  std::lock_guard<std::mutex> l(sh.mu);
  const FlatKeyMap<Slot>::Node* node = sh.map.Find(k.key, k.hash);
  if (node == nullptr) return std::nullopt;
  const Version* v = NewestAtOrBelow(node->value, seq);
  if (v == nullptr || v->seq <= floor) return std::nullopt;
  return *v;
}

std::optional<Version> MemTable::ReadLatest(std::string_view key) const {
  const HashedKey k = Hashed(key);
  Shard& sh = ShardOf(k.hash);
  std::lock_guard<std::mutex> l(sh.mu);
  const FlatKeyMap<Slot>::Node* node = sh.map.Find(k.key, k.hash);
  if (node == nullptr || node->value.versions.empty()) return std::nullopt;
  return node->value.versions.back();
}

void MemTable::Add(std::string_view key, Version v, uint64_t keep) {
  const HashedKey k = Hashed(key);
  Shard& sh = ShardOf(k.hash);
  std::lock_guard<std::mutex> l(sh.mu);
  Slot& slot = SlotFor(sh, k, /*warm=*/false);
  const size_t old_charge = slot.s3fifo.charge;
  const bool was_dirty = slot.dirty;
  // Keep the newest version at or below `keep` (readers or a checkpoint need it), and what open
  // snapshots read; drop older.
  auto& vs = slot.versions;
  Trim(&vs, keep, pins());
  vs.push_back(std::move(v));
  slot.dirty = true;
  S3Fifo<Slot>::Access(&slot);  // written keys tend to be read
  Settle(sh, slot, old_charge, was_dirty);
  EvictLocked(sh);
}

uint64_t MemTable::erase_generation(std::string_view key) const {
  return ShardOf(key).erase_gen.load(std::memory_order_acquire);
}

MemTable::FillResult MemTable::Fill(std::string_view key, Entry e, uint64_t generation,
                                    std::optional<Version>* seen, bool warm) {
  const HashedKey k = Hashed(key);
  Shard& sh = ShardOf(k.hash);
  std::lock_guard<std::mutex> l(sh.mu);
  const FlatKeyMap<Slot>::Node* node = sh.map.Find(k.key, k.hash);
  if (node == nullptr) {
    if (sh.erase_gen.load(std::memory_order_acquire) != generation) return FillResult::kRetry;
    Slot& slot = NewSlot(sh, k, warm);  // the key is not there: no second probe
    const size_t old_charge = slot.s3fifo.charge;
    slot.versions.push_back(Version{0, e});
    Settle(sh, slot, old_charge, false);
    ++sh.fills;
    *seen = slot.versions.back();
    EvictLocked(sh);  // may drop the new key itself; `seen` is a copy
    return FillResult::kCached;
  }
  const Version* v = NewestAtOrBelow(node->value, visible_->load(std::memory_order_acquire));
  // Only invisible versions in memory: what readers see is still RocksDB's (read just now).
  *seen = v == nullptr ? Version{0, std::move(e)} : *v;
  return FillResult::kKnown;
}

void MemTable::ForEachDirty(
    uint64_t seq, const std::function<void(const std::string&, const Version&)>& visit) const {
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    sh.map.ForEach([&](const FlatKeyMap<Slot>::Node& n) {
      if (!n.value.dirty) return;
      const Version* v = NewestAtOrBelow(n.value, seq);
      if (v != nullptr) visit(n.key, *v);
    });
  }
}

void MemTable::MarkCheckpointed(uint64_t seq) {
  const Pins p = pins();
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    sh.map.ForEach([&](FlatKeyMap<Slot>::Node& n) {  // may erase the node it visits
      Slot& slot = n.value;
      if (!slot.dirty) return;
      const size_t old_charge = slot.s3fifo.charge;
      auto& vs = slot.versions;
      // Versions older than the newest one at or below `seq` are in RocksDB or superseded
      // (unless an open snapshot reads one).
      Trim(&vs, seq, p);
      slot.dirty = vs.back().seq > seq;
      Settle(sh, slot, old_charge, /*was_dirty=*/true);
      if (!slot.dirty && vs.size() == 1 && !vs[0].entry.has_value() && !Pinned(slot, p)) {
        Erase(sh, slot, /*queued=*/true);  // RocksDB has the delete; memory need not remember it
      }
    });
    EvictLocked(sh);
  }
}

size_t MemTable::Sweep(uint64_t now_ms) {
  size_t n = 0;
  const Pins p = pins();
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    sh.map.ForEach([&](FlatKeyMap<Slot>::Node& node) {  // may erase the node it visits
      Slot& slot = node.value;
      if (slot.dirty) return;       // the next checkpoint stores it; the sweep after drops it
      if (Pinned(slot, p)) return;  // a snapshot reads an older version of it
      const Version& v = slot.versions.back();
      if (v.entry.has_value() && ExpiredAt(*v.entry, now_ms)) {
        Erase(sh, slot, /*queued=*/true);
        ++sh.expired;
        ++n;
      }
    });
  }
  return n;
}

void MemTable::ForEachPrefix(
    std::string_view prefix,
    const std::function<void(const std::string&, const Version&)>& visit) const {
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    const uint64_t max_seq = visible_->load(std::memory_order_acquire);
    sh.map.ForEach([&](const FlatKeyMap<Slot>::Node& n) {
      if (!std::string_view(n.key).starts_with(prefix)) return;
      const Version* v = NewestAtOrBelow(n.value, max_seq);
      if (v != nullptr) visit(n.key, *v);
    });
  }
}

void MemTable::ForEachPrefixAt(
    std::string_view prefix, uint64_t seq, uint64_t floor,
    const std::function<void(const std::string&, const Version&)>& visit) const {
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    sh.map.ForEach([&](const FlatKeyMap<Slot>::Node& n) {
      if (!std::string_view(n.key).starts_with(prefix)) return;
      const Version* v = NewestAtOrBelow(n.value, seq);
      if (v != nullptr && v->seq > floor) visit(n.key, *v);
    });
  }
}

MemTableStats MemTable::Stats() const {
  MemTableStats s;
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> l(sh.mu);
    s.keys += sh.map.size();
    sh.map.ForEach([&](const FlatKeyMap<Slot>::Node& n) { s.dirty_keys += n.value.dirty ? 1 : 0; });
    s.hits += sh.hits;
    s.misses += sh.misses;
    s.fills += sh.fills;
    s.evictions += sh.evictions;
    s.expired += sh.expired;
  }
  s.bytes = bytes();
  s.dirty_bytes = dirty_bytes();
  return s;
}

}  // namespace walcache::engine
