// PlanCommit (see commit_plan.h).
#include "engine/commit_plan.h"

#include <algorithm>
#include <deque>
#include <set>

#include "engine/txn_overlay.h"
#include "util/injected_bug.h"
#include "util/status_macros.h"

namespace walcache::engine {
namespace {

using Kind = Transaction::Op::Kind;

bool DerivesFrom(const Entry& e, const std::string& source) {
  return std::any_of(e.related.begin(), e.related.end(),
                     [&](const RelatedKey& r) { return r.key == source; });
}

// min of two expiries where 0 means never.
uint64_t EarlierExpiry(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// One transaction's planning: its overlay over the state `reads` show, and what it logs.
class Planner {
 public:
  Planner(uint64_t seq, uint64_t now, const PlanReads& reads, StaleEdges* stale)
      : seq_(seq), ov_(now), reads_(reads), stale_(stale) {}

  Status Plan(const std::vector<Transaction::Op>& ops) {
    for (const Transaction::Op& op : ops) WALCACHE_RETURN_IF_ERROR(Step(op));
    return Status::OK();
  }
  CommitPlan Take() {
    plan_.effects = ov_.effects();
    return std::move(plan_);
  }

 private:
  Status Step(const Transaction::Op& op) {
    switch (op.kind) {
      case Kind::kExpect: {
        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(op.key));
        if (!cur.has_value() || cur->update_id != op.update_id) {
          return Status::Conflict(
              "'" + op.key + "' is " +
              (cur ? "at update_id " + std::to_string(cur->update_id) : "absent") + ", expected " +
              std::to_string(op.update_id));
        }
        return Status::OK();
      }
      case Kind::kExpectAbsent: {
        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(op.key));
        if (cur.has_value()) {
          return Status::Conflict("'" + op.key + "' is present (update_id " +
                                  std::to_string(cur->update_id) + "), expected absent");
        }
        return Status::OK();
      }
      case Kind::kPut:
        return Put(op);
      case Kind::kDelete:
      case Kind::kInvalidate:
        WALCACHE_RETURN_IF_ERROR(Cascade(op.key));
        if (op.kind == Kind::kDelete) {
          plan_.batch.Delete(op.key);
        } else {
          plan_.batch.Invalidate(op.key);
        }
        ov_.Set(op.key, std::nullopt);
        return Status::OK();
      case Kind::kTouch:
        return Touch(op);
    }
    return Status::OK();
  }

  Status Put(const Transaction::Op& op) {
    // Writing the key invalidates what was derived from it; then its own sources must hold
    // (checked after). A source that this very cascade removed derives from the key: the two
    // would derive from each other, which no state can satisfy.
    std::vector<bool> live_before(op.related.size());
    for (size_t i = 0; i < op.related.size(); ++i) {
      WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, Current(op.related[i].key));
      live_before[i] = src.has_value();
    }
    WALCACHE_RETURN_IF_ERROR(Cascade(op.key));
    const uint64_t now = ov_.now();
    Entry e{op.value, seq_, op.ttl_ms != 0 ? now + op.ttl_ms : 0, {}};
    for (size_t i = 0; i < op.related.size(); ++i) {
      const RelatedKey& r = op.related[i];
      WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, Current(r.key));
      if (!src.has_value() && live_before[i]) {
        return Status::InvalidArgument("'" + op.key + "' names '" + r.key + "' as related, but '" +
                                       r.key + "' derives from '" + op.key + "': a cycle");
      }
      const uint64_t want = r.update_id == 0 ? seq_ : r.update_id;
      if (!src.has_value() || src->update_id != want) {
        return Status::Conflict("'" + op.key + "' derives from '" + r.key + "' at update_id " +
                                std::to_string(want) + " but it is " +
                                (src ? "at " + std::to_string(src->update_id) : "absent"));
      }
      e.related.push_back(RelatedKey{r.key, want});
      e.expires_at = EarlierExpiry(e.expires_at, src->expires_at);
    }
    plan_.batch.Put(op.key, e.value, e.expires_at, e.related);
    ov_.Set(op.key, std::move(e));
    return Status::OK();
  }

  Status Touch(const Transaction::Op& op) {
    WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(op.key));
    if (!cur.has_value()) return Status::OK();
    uint64_t expires_at = op.ttl_ms != 0 ? ov_.now() + op.ttl_ms : 0;
    for (const RelatedKey& r : cur->related) {  // never outlive a source
      WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, Current(r.key));
      if (src.has_value()) expires_at = EarlierExpiry(expires_at, src->expires_at);
    }
    cur->expires_at = expires_at;
    plan_.batch.Touch(op.key, expires_at);
    ov_.Set(op.key, std::move(cur));
    return ClampDependents(op.key, expires_at);
  }

  // The state of `key` as the transaction sees it so far.
  Result<std::optional<Entry>> Current(const std::string& key) {
    if (const std::optional<Entry>* pending = ov_.Find(key)) return *pending;
    return reads_.latest(key);
  }

  // Keys that may derive from `source`: installed entries and this transaction's own pending
  // ones (a superset: the walk checks each entry).
  Result<std::vector<std::string>> Candidates(const std::string& source) {
    std::vector<std::string> out = ov_.DependentsOf(source);
    WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> installed, reads_.dependents(source));
    if (out.empty()) return installed;
    out.insert(out.end(), installed.begin(), installed.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Walks, breadth first from `key`, the live entries derived from it, installed or pending,
  // each once; `step` may change the overlay and says whether to walk on from that entry.
  Status WalkDerived(const std::string& key,
                     const std::function<bool(const std::string& dependent, Entry* e)>& step) {
    std::deque<std::string> todo{key};
    std::set<std::string> visited{key};  // each dependent is stepped on once per walk
    while (!todo.empty()) {
      const std::string source = std::move(todo.front());
      todo.pop_front();
      WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> candidates, Candidates(source));
      for (const std::string& d : candidates) {
        if (visited.count(d) > 0) continue;
        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(d));
        if (!cur.has_value() || !DerivesFrom(*cur, source)) {
          // A stale edge of the installed index (the walk sees every pending version through
          // Current, so an edge is stale only if the transaction did not change `d`).
          if (!ov_.Changed(d) && stale_ != nullptr) stale_->emplace_back(source, d);
          continue;
        }
        visited.insert(d);
        if (step(d, &*cur)) todo.push_back(d);
      }
    }
    return Status::OK();
  }

  // Invalidates, transitively, every entry derived from `key`.
  Status Cascade(const std::string& key) {
    if (BugInjected(InjectedBug::kSkipRelatedInvalidation)) return Status::OK();
    return WalkDerived(key, [&](const std::string& d, Entry*) {
      ov_.Set(d, std::nullopt);
      plan_.batch.Invalidate(d);
      ++plan_.invalidated;
      return true;  // what was derived from d is stale too
    });
  }

  // Clamps the expiry of entries derived from `key` to `expires_at`, transitively.
  Status ClampDependents(const std::string& key, uint64_t expires_at) {
    if (expires_at == 0) return Status::OK();
    return WalkDerived(key, [&](const std::string& d, Entry* cur) {
      if (cur->expires_at != 0 && cur->expires_at <= expires_at) return false;
      cur->expires_at = expires_at;
      plan_.batch.Touch(d, expires_at);
      ov_.Set(d, std::move(*cur));
      return true;
    });
  }

  const uint64_t seq_;
  TxnOverlay ov_;
  const PlanReads& reads_;
  StaleEdges* const stale_;
  CommitPlan plan_;
};

}  // namespace

Result<CommitPlan> PlanCommit(const std::vector<Transaction::Op>& ops, uint64_t seq,
                              uint64_t now_ms, const PlanReads& reads, StaleEdges* stale) {
  Planner p(seq, now_ms, reads, stale);
  WALCACHE_RETURN_IF_ERROR(p.Plan(ops));
  return p.Take();
}

}  // namespace walcache::engine
