// TxnOverlay: what a transaction has built so far while the sequencer validates it — each key it
// changed, with its new entry or empty for removed — and the reverse-index edges its own pending
// entries add (source -> keys whose pending entry derives from it).
//
// Why the edges: the ops of a transaction apply in order, and a write, delete, invalidate or
// touch of a key acts on every entry derived from it, including entries created earlier in the
// same transaction. The cache's reverse index knows only installed entries, so a walk over
// dependents must ask both (CacheImpl::WalkDerived). Like the cache's index, `DependentsOf` is a
// superset: an entry replaced later in the transaction keeps its edges here, and the walk checks
// each candidate's related list.
//
// `now` is the transaction's instant: the sequencer reads the clock once, and every TTL of the
// transaction counts from it and every liveness check in it is made at it.
//
// Thread-safety: a plain value, used by the sequencer's thread only.
#ifndef WALCACHE_ENGINE_TXN_OVERLAY_H_
#define WALCACHE_ENGINE_TXN_OVERLAY_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/batch_effects.h"
#include "engine/entry.h"
#include "util/injected_bug.h"

namespace walcache::engine {

class TxnOverlay {
 public:
  explicit TxnOverlay(uint64_t now_ms) : now_(now_ms) {}

  uint64_t now() const { return now_; }

  // The pending state of `key`: null if the transaction has not changed it, else its entry or
  // empty (removed by the transaction).
  const std::optional<Entry>* Find(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }
  bool Changed(const std::string& key) const { return entries_.count(key) > 0; }

  // Sets the pending state of `key`, recording the edges of a derived entry.
  void Set(const std::string& key, std::optional<Entry> e) {
    if (e.has_value() && !BugInjected(InjectedBug::kCascadeIgnoresTxnEdges)) {
      for (const RelatedKey& r : e->related) derived_[r.key].insert(key);
    }
    entries_[key] = std::move(e);
  }

  // Keys whose pending entry may derive from `source` (a superset), in key order.
  std::vector<std::string> DependentsOf(const std::string& source) const {
    auto it = derived_.find(source);
    if (it == derived_.end()) return {};
    return std::vector<std::string>(it->second.begin(), it->second.end());
  }

  const Effects& effects() const { return entries_; }

 private:
  uint64_t now_;
  Effects entries_;
  std::unordered_map<std::string, std::set<std::string>> derived_;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_TXN_OVERLAY_H_
