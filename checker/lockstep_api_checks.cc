// The lockstep checker's read-side API checks (lockstep_api_checks.h).
#include "checker/lockstep_api_checks.h"

#include <string_view>
#include <utility>
#include <vector>

namespace walcache::checker {
namespace {

template <class Scannable>
Result<State> ScanInto(Scannable& from) {
  State s;
  Status st = from.Scan("", [&](std::string_view k, const Entry& e) {
    s.emplace(std::string(k), FromEntry(e));
    return true;
  });
  if (!st.ok()) return st;
  return s;
}

}  // namespace

ModelEntry FromEntry(const Entry& e) {
  return ModelEntry{e.value, e.update_id, e.expires_at, e.related};
}

Result<State> ScanState(Cache* c) { return ScanInto(*c); }
Result<State> ScanState(const Snapshot& snap) { return ScanInto(snap); }

std::string DiffStates(const State& want, const State& found) {
  std::string diff;
  for (const auto& [k, e] : want) {
    auto it = found.find(k);
    if (it == found.end() || it->second != e) {
      diff += "\n    expected " + Describe(k, e) + "\n    found    " +
              (it == found.end() ? k + ": absent" : Describe(k, it->second));
    }
  }
  for (const auto& [k, e] : found) {
    if (want.count(k) == 0)
      diff += "\n    expected " + k + ": absent\n    found    " + Describe(k, e);
  }
  return diff;
}

std::string ShowTxn(const Txn& t) {
  std::string s = "txn " + std::to_string(t.id) + " at " + std::to_string(t.now_ms) + ":";
  if (t.ops.empty()) s += " (no ops)";
  for (const TxnOp& op : t.ops) {
    s += std::string(" ") + static_cast<char>(op.kind) + ":" + op.key;
    if (op.kind == TxnOp::kPut || op.kind == TxnOp::kTouch) {
      s += "/ttl" + std::to_string(op.ttl_ms);
    }
    for (const RelatedKey& r : op.related) s += "<-" + r.key + "@" + std::to_string(r.update_id);
    if (op.kind == TxnOp::kExpect) s += "@" + std::to_string(op.update_id);
  }
  return s;
}

std::string HeldSnapshot::Take(Cache* c, State want, uint64_t last_seq, uint64_t n) {
  Result<Snapshot> s = c->GetSnapshot();
  if (!s.ok()) return "GetSnapshot: " + s.status().ToString();
  snap_.emplace(std::move(s).value());
  want_ = std::move(want);
  taken_at_ = n;
  if (snap_->update_id() != last_seq) {
    return "a snapshot taken after updateId " + std::to_string(last_seq) + " is at " +
           std::to_string(snap_->update_id());
  }
  return "";
}

std::string HeldSnapshot::CheckAndRelease(const Generator& gen, std::mt19937_64& rng) {
  std::string failure;
  const std::string at = "the snapshot at " + std::to_string(snap_->update_id());
  Result<State> seen = ScanState(*snap_);
  if (!seen.ok()) {
    failure = "a snapshot's Scan: " + seen.status().ToString();
  } else if (*seen != want_) {
    failure = at + ", held since transaction " + std::to_string(taken_at_) +
              ", differs from the model then:" + DiffStates(want_, *seen);
  }
  for (int i = 0; i < 4 && failure.empty(); ++i) {
    const std::string k = gen.AnyKey(rng);
    Result<Entry> e = snap_->Get(k);
    auto it = want_.find(k);
    const bool want = it != want_.end();
    if (e.ok() != want || (want && FromEntry(*e) != it->second)) {
      failure = at + " reads " + k + " as " +
                (e.ok() ? Describe(k, FromEntry(*e)) : e.status().ToString()) + "; the model had " +
                (want ? Describe(k, it->second) : "it absent");
    }
  }
  snap_.reset();
  return failure;
}

LoadChecked LoadAndCheck(Cache* c, const WorkloadShape& shape, State* state, uint64_t last_seq,
                         uint64_t now_ms, uint64_t n, size_t max_related, std::mt19937_64& rng) {
  LoadChecked out;
  const std::string key = "d" + std::to_string(rng() % static_cast<uint64_t>(shape.derived));
  out.key = key;
  std::vector<std::string> sources{"s" + std::to_string(rng() % shape.sources)};
  if (rng() % 2 == 0) {
    const std::string other = "s" + std::to_string(rng() % shape.sources);
    if (other != sources[0]) sources.push_back(other);
  }
  const uint64_t ttl = rng() % 2 == 0 ? 0 : 1 + rng() % 3000;
  auto model = [&](const std::string& k) -> std::optional<ModelEntry> {
    auto it = state->find(k);
    if (it == state->end() || !LiveAt(it->second, now_ms)) return std::nullopt;
    return it->second;
  };
  const std::optional<ModelEntry> had = model(key);
  const uint64_t before = last_seq;
  const std::string value = "L" + std::to_string(n);
  int calls = 0;
  Result<Loaded> got = c->GetOrLoad(key,
                                    [&](LoadContext& ctx) -> Result<std::string> {
                                      ++calls;
                                      for (const std::string& src : sources) (void)ctx.Get(src);
                                      return value;
                                    },
                                    {.ttl_ms = ttl, .durability = Durability::kBuffered});
  const std::string what = "GetOrLoad(" + key + ") loading from " + sources[0] +
                           (sources.size() > 1 ? "," + sources[1] : "");
  if (had.has_value()) {
    if (!got.ok() || got->loaded || calls != 0 || FromEntry(got->entry) != *had) {
      out.failure = what + " of a live key: expected the hit " + Describe(key, *had) + "; got " +
                    (got.ok() ? Describe(key, FromEntry(got->entry)) : got.status().ToString()) +
                    " after " + std::to_string(calls) + " loads";
    }
    return out;
  }
  Txn t;
  t.id = n;
  t.now_ms = now_ms;
  t.ops.push_back(TxnOp{TxnOp::kExpectAbsent, key, {}, 0, 0, {}});
  bool absent = false;
  std::vector<RelatedKey> related;
  for (const std::string& src : sources) {
    std::optional<ModelEntry> m = model(src);
    if (!m.has_value()) {
      absent = true;
      continue;
    }
    t.ops.push_back(TxnOp{TxnOp::kExpect, src, {}, 0, m->update_id, {}});
    related.push_back(RelatedKey{src, m->update_id});
  }
  t.ops.push_back(TxnOp{TxnOp::kPut, key, value, ttl, 0, related});
  const Limits limits{.max_related = max_related};
  if (calls != 1) {
    out.failure = what + " of an absent key ran the loader " + std::to_string(calls) + "x";
    return out;
  }
  if (!got.ok()) {
    // Only a fill the model rejects as invalid (a cycle through the sources) may fail.
    State copy = *state;
    if (absent || Apply(t, before + 1, &copy, limits) != Outcome::kInvalid ||
        !got.status().IsInvalidArgument()) {
      out.failure = what + ": " + got.status().ToString();
    }
    return out;
  }
  if (absent) {
    if (got->stored || c->Stats().last_seq != before) {
      out.failure = what + ", a source absent: stored it (must return it unstored)";
    }
    return out;
  }
  const Outcome want = Apply(t, before + 1, state, limits);
  const std::optional<ModelEntry> now = model(key);
  if (want != Outcome::kApplied || !got->stored || got->entry.update_id != before + 1 ||
      !now.has_value() || FromEntry(got->entry) != *now) {
    out.failure = what + ": the model applies " + ShowTxn(t) + " at " + std::to_string(before + 1) +
                  " as " + (now.has_value() ? Describe(key, *now) : "absent") +
                  "; the cache returned " + Describe(key, FromEntry(got->entry)) +
                  (got->stored ? ", stored" : ", unstored");
    return out;
  }
  out.stored = true;
  return out;
}

}  // namespace walcache::checker
