// The checker's model (see model.h). Written from the semantics, not from engine/commit.cc.
#include "checker/model.h"

#include <algorithm>
#include <deque>
#include <optional>

namespace walcache::checker {
namespace {

bool DerivesFrom(const ModelEntry& e, const std::string& source) {
  return std::any_of(e.related.begin(), e.related.end(),
                     [&](const RelatedKey& r) { return r.key == source; });
}

// Every live entry derived, transitively, from `key` (not `key` itself), breadth first.
std::vector<std::string> Derived(const State& s, const std::string& key) {
  std::vector<std::string> out;
  std::deque<std::string> todo{key};
  std::vector<std::string> seen{key};
  while (!todo.empty()) {
    const std::string src = todo.front();
    todo.pop_front();
    for (const auto& [k, e] : s) {
      if (!DerivesFrom(e, src) || std::find(seen.begin(), seen.end(), k) != seen.end()) continue;
      seen.push_back(k);
      out.push_back(k);
      todo.push_back(k);
    }
  }
  return out;
}

}  // namespace

Outcome Apply(const Txn& t, uint64_t seq, State* state) {
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
        for (const std::string& d : Derived(s, op.key)) s.erase(d);  // stale now
        ModelEntry e{op.value, seq, op.ttl_ms != 0, {}};
        for (const RelatedKey& r : op.related) {
          const uint64_t want = r.update_id == 0 ? seq : r.update_id;
          auto src = s.find(r.key);
          if (r.key == op.key || src == s.end() || src->second.update_id != want) {
            return Outcome::kConflict;
          }
          e.related.push_back(RelatedKey{r.key, want});
          e.expires = e.expires || src->second.expires;  // never outlives a source
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
        bool expires = op.ttl_ms != 0;
        for (const RelatedKey& r : cur->second.related) {
          auto src = s.find(r.key);
          if (src != s.end()) expires = expires || src->second.expires;
        }
        cur->second.expires = expires;
        if (expires) {
          for (const std::string& d : Derived(s, op.key)) s[d].expires = true;  // clamped
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
  if (e.expires) out += " [expires]";
  if (!e.related.empty()) {
    out += " <-";
    for (const RelatedKey& r : e.related) out += " " + r.key + "@" + std::to_string(r.update_id);
  }
  return out;
}

}  // namespace walcache::checker
