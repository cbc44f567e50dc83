// The checker's model (see model.h). Written from the documented semantics, not from
// engine/commit.cc.
#include "checker/model.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>

namespace walcache::checker {
namespace {

bool DerivesFrom(const ModelEntry& e, const std::string& source) {
  return std::any_of(e.related.begin(), e.related.end(),
                     [&](const RelatedKey& r) { return r.key == source; });
}

// Every entry derived, transitively, from `key` (not `key` itself), breadth first. The state
// holds every entry the transaction created so far, so these are included.
std::vector<std::string> Derived(const State& s, const std::string& key) {
  std::vector<std::string> out;
  std::deque<std::string> todo{key};
  std::set<std::string> seen{key};
  while (!todo.empty()) {
    const std::string src = todo.front();
    todo.pop_front();
    for (const auto& [k, e] : s) {
      if (!DerivesFrom(e, src) || !seen.insert(k).second) continue;
      out.push_back(k);
      todo.push_back(k);
    }
  }
  return out;
}

// min of two expiries where 0 means never.
uint64_t Earlier(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// Limits, empty keys and self-references make the whole transaction invalid before any of it
// is looked at.
bool WithinLimits(const Txn& t, const Limits& limits) {
  for (const TxnOp& op : t.ops) {
    if (op.key.empty() || op.key.size() > limits.max_key_size) return false;
    if (op.value.size() > limits.max_value_size) return false;
    if (op.related.size() > limits.max_related) return false;
    if (op.ttl_ms > (UINT64_MAX >> 2)) return false;
    for (const RelatedKey& r : op.related) {
      if (r.key.empty() || r.key.size() > limits.max_key_size || r.key == op.key) return false;
    }
  }
  return true;
}

}  // namespace

State LiveState(const State& s, uint64_t now_ms) {
  State out;
  for (const auto& [k, e] : s) {
    if (LiveAt(e, now_ms)) out.emplace(k, e);
  }
  return out;
}

Outcome Apply(const Txn& t, uint64_t seq, State* state, const Limits& limits) {
  if (!WithinLimits(t, limits)) return Outcome::kInvalid;
  const uint64_t now = t.now_ms;
  // What is expired at the instant is absent for every purpose, and stays so (instants grow).
  std::erase_if(*state, [&](const auto& kv) { return !LiveAt(kv.second, now); });
  State s = *state;
  bool wrote = false;
  for (const TxnOp& op : t.ops) {
    auto cur = s.find(op.key);
    switch (op.kind) {
      case TxnOp::kExpect:
        if (cur == s.end() || cur->second.update_id != op.update_id) return Outcome::kConflict;
        break;
      case TxnOp::kExpectAbsent:
        if (cur != s.end()) return Outcome::kConflict;
        break;
      case TxnOp::kPut: {
        // Writing the key makes what was derived from it stale; then its own sources must hold.
        // A source that this removed derived from the key: a cycle no state can satisfy.
        std::set<std::string> live_before;
        for (const RelatedKey& r : op.related) {
          if (s.count(r.key) > 0) live_before.insert(r.key);
        }
        for (const std::string& d : Derived(s, op.key)) s.erase(d);
        ModelEntry e{op.value, seq, op.ttl_ms != 0 ? now + op.ttl_ms : 0, {}};
        for (const RelatedKey& r : op.related) {
          const uint64_t want = r.update_id == 0 ? seq : r.update_id;
          auto src = s.find(r.key);
          if (src == s.end() && live_before.count(r.key) > 0) return Outcome::kInvalid;
          if (src == s.end() || src->second.update_id != want) return Outcome::kConflict;
          e.related.push_back(RelatedKey{r.key, want});
          e.expires_at = Earlier(e.expires_at, src->second.expires_at);  // never outlives it
        }
        s[op.key] = std::move(e);
        wrote = true;
        break;
      }
      case TxnOp::kDelete:
      case TxnOp::kInvalidate:
        for (const std::string& d : Derived(s, op.key)) s.erase(d);
        s.erase(op.key);
        wrote = true;
        break;
      case TxnOp::kTouch: {
        if (cur == s.end()) break;  // nothing to touch: writes nothing
        uint64_t expires_at = op.ttl_ms != 0 ? now + op.ttl_ms : 0;
        for (const RelatedKey& r : cur->second.related) {
          auto src = s.find(r.key);
          if (src != s.end()) expires_at = Earlier(expires_at, src->second.expires_at);
        }
        cur->second.expires_at = expires_at;
        if (expires_at != 0) {  // what derives from it never outlives it
          for (const std::string& d : Derived(s, op.key)) {
            s[d].expires_at = Earlier(s[d].expires_at, expires_at);
          }
        }
        wrote = true;
        break;
      }
    }
  }
  if (!wrote) return Outcome::kEmpty;
  *state = std::move(s);
  return Outcome::kApplied;
}

std::string Describe(const std::string& key, const ModelEntry& e) {
  std::string out = key + ": " + e.value + "@" + std::to_string(e.update_id);
  if (e.expires_at != 0) out += " [expires " + std::to_string(e.expires_at) + "]";
  if (!e.related.empty()) {
    out += " <-";
    for (const RelatedKey& r : e.related) out += " " + r.key + "@" + std::to_string(r.update_id);
  }
  return out;
}

}  // namespace walcache::checker
