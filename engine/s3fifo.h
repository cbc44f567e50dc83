// S3Fifo: the eviction order of the memory map, S3-FIFO (Yang et al., "FIFO queues are all you
// need for cache eviction", SOSP 2023). Why this policy and not LRU or CLOCK: docs/eviction.md.
//
// New items enter a small FIFO (a tenth of the capacity). An item accessed at least
// `move_threshold` times while there moves to the main FIFO when it reaches the small queue's
// tail; the others leave and their key hash is remembered in a ghost FIFO, and an item inserted
// while its hash is in the ghost enters main directly. Main is a CLOCK with a 2-bit frequency: an
// item with freq > 0 at main's tail is reinserted at the head with freq - 1. One-hit wonders thus
// leave fast, and a hit costs one byte store (no list surgery under the reader's lock).
//
// Pinned items (the caller decides: dirty ones, which RocksDB does not hold yet) are never
// evicted; one reaching a tail moves to main's head. Evict stops over capacity when a whole pass
// finds nothing it may evict; the caller makes items evictable (a checkpoint) and calls it again.
//
// Items are the caller's and carry a `Hook s3fifo` member; the queues hold pointers to them, so an
// item must stay at one address while it is queued (std::unordered_map nodes do).
//
// Thread-safety: not thread-safe; the caller's lock guards it and its items' hooks.
#ifndef WALCACHE_ENGINE_S3FIFO_H_
#define WALCACHE_ENGINE_S3FIFO_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <unordered_map>

namespace walcache::engine {

template <typename Item>
class S3Fifo {
 public:
  enum Queue : uint8_t { kNone = 0, kSmall = 1, kMain = 2 };
  struct Hook {
    typename std::list<Item*>::iterator pos;
    size_t charge = 0;
    uint64_t ghost_id = 0;
    uint8_t freq = 0;
    Queue queue = kNone;
  };

  explicit S3Fifo(size_t capacity, unsigned move_threshold = 1)
      : capacity_(capacity), move_threshold_(move_threshold) {}

  void set_capacity(size_t capacity) { capacity_ = capacity; }
  size_t capacity() const { return capacity_; }
  size_t bytes() const { return small_bytes_ + main_bytes_; }
  size_t items() const { return small_.size() + main_.size(); }

  // `item` becomes resident with `charge` bytes. `ghost_id`: a hash of its key. `warm`: enter
  // main directly (an item known to be hot, as prewarm's recent updates).
  // REQUIRES: item is not resident.
  void Insert(Item* item, uint64_t ghost_id, size_t charge, bool warm = false) {
    Hook& h = item->s3fifo;
    h.charge = charge;
    h.ghost_id = ghost_id;
    h.freq = 0;
    if (warm || ghost_.count(ghost_id) > 0) {
      PushMain(item);
    } else {
      h.queue = kSmall;
      h.pos = small_.insert(small_.begin(), item);
      small_bytes_ += charge;
    }
  }

  // A hit. REQUIRES: resident.
  static void Access(Item* item) {
    uint8_t& f = item->s3fifo.freq;
    if (f < 3) ++f;
  }

  // The item's charge changed. REQUIRES: resident.
  void Recharge(Item* item, size_t charge) {
    Hook& h = item->s3fifo;
    size_t& total = h.queue == kSmall ? small_bytes_ : main_bytes_;
    total = total - h.charge + charge;
    h.charge = charge;
  }

  // The item leaves for a reason of the caller's (not remembered in the ghost).
  // REQUIRES: resident.
  void Remove(Item* item) {
    Hook& h = item->s3fifo;
    if (h.queue == kSmall) {
      small_.erase(h.pos);
      small_bytes_ -= h.charge;
    } else {
      main_.erase(h.pos);
      main_bytes_ -= h.charge;
    }
    h.queue = kNone;
  }

  // Evicts until bytes() <= capacity(). pinned(item): may it not be evicted now. drop(item): the
  // item was evicted (it is no longer queued; the caller frees it). Returns the items dropped.
  template <typename Pinned, typename Drop>
  size_t Evict(Pinned&& pinned, Drop&& drop) {
    size_t dropped = 0;
    // Pinned items at main's tail with nothing left to decrement, since the last drop; more than
    // main holds means main is all pinned, so small is tried even under its share.
    size_t fruitless = 0;
    while (bytes() > capacity_) {
      const bool main_stalled = fruitless > main_.size();
      if (main_stalled && small_.empty()) break;
      const bool from_small =
          !small_.empty() && (main_stalled || main_.empty() || small_bytes_ * 10 >= capacity_);
      Item* item = from_small ? small_.back() : main_.back();
      Hook& h = item->s3fifo;
      if (from_small) {
        small_.pop_back();
        small_bytes_ -= h.charge;
        if (h.freq >= move_threshold_ || pinned(item)) {
          h.freq = 0;
          PushMain(item);
          continue;
        }
      } else {
        main_.pop_back();
        main_bytes_ -= h.charge;
        const bool pin = pinned(item);
        if (h.freq > 0 || pin) {
          if (h.freq > 0) {
            --h.freq;
          } else {
            ++fruitless;
          }
          PushMain(item);
          continue;
        }
      }
      h.queue = kNone;
      if (from_small) Remember(h.ghost_id);
      drop(item);
      ++dropped;
      fruitless = 0;
    }
    return dropped;
  }

 private:
  void PushMain(Item* item) {
    Hook& h = item->s3fifo;
    h.queue = kMain;
    h.pos = main_.insert(main_.begin(), item);
    main_bytes_ += h.charge;
  }

  // The ghost holds as many hashes as main holds items (at least a few).
  void Remember(uint64_t ghost_id) {
    ghost_fifo_.push_back(ghost_id);
    ++ghost_[ghost_id];
    const size_t limit = std::max<size_t>(main_.size(), 16);
    while (ghost_fifo_.size() > limit) {
      auto it = ghost_.find(ghost_fifo_.front());
      if (--it->second == 0) ghost_.erase(it);
      ghost_fifo_.pop_front();
    }
  }

  size_t capacity_;
  unsigned move_threshold_;
  std::list<Item*> small_, main_;  // head: newest
  size_t small_bytes_ = 0, main_bytes_ = 0;
  std::deque<uint64_t> ghost_fifo_;
  std::unordered_map<uint64_t, uint32_t> ghost_;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_S3FIFO_H_
