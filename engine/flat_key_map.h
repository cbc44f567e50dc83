// FlatKeyMap: a hash map from string keys to values that stay put, for the MemTable's shards.
//
// Why not std::unordered_map: a lookup there walks from the bucket array to the node *before*
// the bucket's first node and then along the chain, a cache miss at each step; a table of
// millions of keys is far beyond the caches, so a lookup cost four or five misses (replay
// spent 37% of its time in them, docs/performance.md). Here the slots are one flat array of
// (hash, node) pairs probed linearly: the probe reads one or two adjacent cache lines of the
// array and compares hashes there, and only a slot whose full hash matches is followed to its
// node — one miss for the array (small enough to stay cached for a shard of thousands of keys)
// and one for the node.
//
// Nodes are allocated one by one and never move, so pointers to a node's key and value stay
// valid until it is erased (the S3-FIFO hooks and Slot::key rely on that). Erase leaves a
// tombstone, so erasing while iterating (ForEach) is allowed: nothing moves until the next
// insert, which may rebuild the array (tombstones and growth). Iteration order is the array's.
//
// Callers pass the key's hash with it (the shard already computed it); it must be the same
// function of the key at every call.
//
// Thread-safety: none; the MemTable's shard lock guards it.
#ifndef WALCACHE_ENGINE_FLAT_KEY_MAP_H_
#define WALCACHE_ENGINE_FLAT_KEY_MAP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace walcache::engine {

template <typename V>
class FlatKeyMap {
 public:
  struct Node {
    explicit Node(std::string_view k) : key(k) {}
    const std::string key;
    V value;
  };

  FlatKeyMap() = default;
  FlatKeyMap(const FlatKeyMap&) = delete;
  FlatKeyMap& operator=(const FlatKeyMap&) = delete;
  ~FlatKeyMap() {
    for (Slot& s : slots_) delete s.node;
  }

  size_t size() const { return size_; }
  // Slots in the array (for tests and memory estimates).
  size_t capacity() const { return slots_.size(); }

  // The node of `key`, or nullptr.
  Node* Find(std::string_view key, size_t hash) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.node == nullptr) {
        if (s.hash == kEmpty) return nullptr;
        continue;  // a tombstone: the key may be further on
      }
      if (s.hash == hash && s.node->key == key) return s.node;
    }
  }

  // The node of `key`, created (with a default V) if there was none; `inserted` says which.
  Node* FindOrInsert(std::string_view key, size_t hash, bool* inserted) {
    Node* n = Find(key, hash);
    *inserted = n == nullptr;
    return n != nullptr ? n : Insert(key, hash);
  }

  // A new node for `key` (with a default V). REQUIRES: the map has no node of `key` (the caller
  // just looked, under the same lock).
  Node* Insert(std::string_view key, size_t hash) {
    // Nodes and tombstones fill at most three slots in four, so probes stay short and end.
    if ((size_ + tombstones_ + 1) * 4 > slots_.size() * 3) Rebuild();
    size_t i = hash & mask_;
    while (slots_[i].node != nullptr) i = (i + 1) & mask_;
    if (slots_[i].hash != kEmpty) --tombstones_;  // reusing a tombstone
    auto node = std::make_unique<Node>(key);
    slots_[i] = Slot{hash, node.get()};
    ++size_;
    return node.release();
  }

  // Removes the node of `key` (which may be that node's own key), if there is one. Other nodes
  // stay where they are.
  bool Erase(std::string_view key, size_t hash) {
    if (slots_.empty()) return false;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.node == nullptr) {
        if (s.hash == kEmpty) return false;
        continue;
      }
      if (s.hash == hash && s.node->key == key) {
        delete s.node;
        s = Slot{kTombstone, nullptr};
        --size_;
        ++tombstones_;
        return true;
      }
    }
  }

  // The node in slot `i` (< capacity()), or nullptr: a loop over every slot visits every node,
  // and may Erase the node it is at (no other change).
  Node* At(size_t i) const { return slots_[i].node; }

  // Calls f(Node&) for every node; f may Erase the node it is given (no other change).
  template <typename F>
  void ForEach(F&& f) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (Node* n = slots_[i].node) f(*n);
    }
  }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.node != nullptr) f(static_cast<const Node&>(*s.node));
    }
  }

 private:
  // A slot without a node is empty (hash kEmpty) or a tombstone (kTombstone): a probe ends at an
  // empty slot and goes on past a tombstone.
  static constexpr size_t kEmpty = 0;
  static constexpr size_t kTombstone = 1;
  struct Slot {
    size_t hash = kEmpty;
    Node* node = nullptr;
  };

  // Rehashes into an array at most half full (at least 16 slots), dropping every tombstone: a
  // table that grew doubles, one full of tombstones keeps its size.
  void Rebuild() {
    size_t n = 16;
    while (n < (size_ + 1) * 2) n *= 2;
    std::vector<Slot> old(n);
    old.swap(slots_);
    mask_ = n - 1;
    tombstones_ = 0;
    for (const Slot& s : old) {
      if (s.node == nullptr) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].node != nullptr) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;  // empty, or a power of two
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t tombstones_ = 0;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_FLAT_KEY_MAP_H_
