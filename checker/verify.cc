// The checks after every death (see verify.h).
#include "checker/verify.h"

#include <algorithm>
#include <climits>
#include <functional>

namespace walcache::checker {
namespace {

constexpr size_t kMaxDiffs = 8;
constexpr uint64_t kMaxSearchSteps = 2'000'000;

std::string Show(const State& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? key + ": absent" : Describe(key, it->second);
}

}  // namespace

std::vector<Violation> CheckRelated(const State& recovered) {
  std::vector<Violation> out;
  for (const auto& [key, e] : recovered) {
    for (const RelatedKey& r : e.related) {
      auto src = recovered.find(r.key);
      if (src != recovered.end() && src->second.update_id == r.update_id) continue;
      out.push_back(Violation{"I1",
                              "'" + key + "' (update_id " + std::to_string(e.update_id) +
                                  ") derives from '" + r.key + "' at update_id " +
                                  std::to_string(r.update_id) + ", found " + Show(recovered, r.key),
                              {key, r.key}});
    }
    for (const RelatedKey& r : e.related) {
      auto src = recovered.find(r.key);
      if (src == recovered.end() || src->second.expires_at == 0) continue;
      if (e.expires_at != 0 && e.expires_at <= src->second.expires_at) continue;
      out.push_back(
          Violation{"expiry",
                    Describe(key, e) + " outlives its source " + Describe(r.key, src->second),
                    {key, r.key}});
    }
  }
  return out;
}

namespace {

// Is `recovered`, scanned at an instant in [from, to], the live part of `model`?
bool MatchesAt(const State& model, const State& recovered, uint64_t from, uint64_t to) {
  size_t present = 0;
  for (const auto& [k, e] : model) {
    auto it = recovered.find(k);
    const bool gone = !LiveAt(e, from);  // expired before the scan began
    const bool live = LiveAt(e, to);     // still live when it ended
    if (it == recovered.end()) {
      if (live) return false;
      continue;
    }
    if (gone || !(it->second == e)) return false;
    ++present;
  }
  return present == recovered.size();  // nothing the model lacks
}

// Each rejected transaction must be rejected the same way by the model against the state after
// some prefix P of the explained history (at updateId P + 1) where it can have been validated:
// P is at least every updateId acknowledged before it began, and at most the last transaction
// that began before its rejection was sent. Skipped where that window may reach past what
// recovery kept (a lost transaction may have been validated before it).
void CheckRejections(const State& base, uint64_t base_seq, const Pending& p,
                     const std::map<uint64_t, uint64_t>& by_uid,
                     const std::vector<std::pair<uint64_t, uint64_t>>& chosen,
                     uint64_t recovered_seq, Reconciled* out) {
  std::map<uint64_t, const Txn*> at;  // the explained history
  for (const auto& [uid, id] : by_uid) {
    if (uid <= recovered_seq) at[uid] = &p.intents.at(id);
  }
  std::set<uint64_t> placed;
  for (const auto& [uid, id] : chosen) {
    at[uid] = &p.intents.at(id);
    placed.insert(id);
  }
  int64_t lost_from_us = INT64_MAX;  // when the first transaction that may be lost began
  for (const auto& [id, t] : p.intents) {
    auto a = p.acked.find(id);
    const bool lost = a != p.acked.end()
                          ? a->second > recovered_seq
                          : t.sequenced && placed.count(id) == 0 && p.conflicted.count(id) == 0 &&
                                p.invalid.count(id) == 0;
    if (lost) lost_from_us = std::min(lost_from_us, t.ts_us);
  }
  struct Rejected {
    const Txn* t;
    Outcome as;
    uint64_t lo, hi;
    bool explained = false;
  };
  std::vector<Rejected> rejected;
  auto add = [&](uint64_t id, Outcome as) {
    auto t = p.intents.find(id);
    auto when = p.rejected_at_us.find(id);
    if (t == p.intents.end() || when == p.rejected_at_us.end()) return;
    if (!t->second.sequenced) {
      // Rejected before the cache read its clock: only limits are checked there.
      State s = base;
      if (as != Outcome::kInvalid ||
          Apply(t->second, base_seq + 1, &s, p.limits) != Outcome::kInvalid) {
        out->violations.push_back(Violation{
            "conflict",
            "txn " + std::to_string(id) + " was rejected before the cache took its instant, as " +
                (as == Outcome::kInvalid ? "invalid" : "a conflict") +
                ", but the model finds it within the limits",
            {}});
      }
      return;
    }
    if (when->second > lost_from_us) return;  // its window may reach a lost transaction
    uint64_t lo = base_seq, hi = base_seq;
    for (const auto& [aid, uid] : p.acked) {
      auto a = p.acked_at_us.find(aid);
      if (a != p.acked_at_us.end() && a->second < t->second.ts_us) lo = std::max(lo, uid);
    }
    for (const auto& [uid, txn] : at) {
      if (txn->ts_us < when->second) hi = std::max(hi, uid);
    }
    rejected.push_back(Rejected{&t->second, as, lo, std::max(lo, hi)});
  };
  for (uint64_t id : p.conflicted) add(id, Outcome::kConflict);
  for (uint64_t id : p.invalid) add(id, Outcome::kInvalid);
  if (rejected.empty()) return;
  State s = base;
  for (uint64_t pos = base_seq;; ++pos) {  // s: the state after prefix `pos`
    for (Rejected& r : rejected) {
      if (r.explained || pos < r.lo || pos > r.hi) continue;
      State copy = s;
      r.explained = Apply(*r.t, pos + 1, &copy, p.limits) == r.as;
    }
    if (pos >= recovered_seq) break;
    auto next = at.find(pos + 1);
    if (next == at.end()) return;  // not a whole history: nothing to say
    (void)Apply(*next->second, pos + 1, &s, p.limits);
  }
  for (const Rejected& r : rejected) {
    if (r.explained) continue;
    out->violations.push_back(Violation{
        "conflict",
        "txn " + std::to_string(r.t->id) + " was rejected as " +
            (r.as == Outcome::kInvalid ? "invalid" : "a conflict") +
            ", but the model does not reject it so at any point it can have been validated "
            "(after update_id " +
            std::to_string(r.lo) + " to " + std::to_string(r.hi) + ")",
        {}});
    if (out->violations.size() >= 4) break;
  }
}

}  // namespace

Reconciled Reconcile(const State& base, uint64_t base_seq, const Pending& p, const State& recovered,
                     uint64_t recovered_seq, uint64_t scan_from_ms, uint64_t scan_to_ms) {
  Reconciled out;
  auto violation = [&](std::string inv, std::string detail, std::vector<std::string> keys = {}) {
    out.violations.push_back(Violation{std::move(inv), std::move(detail), std::move(keys)});
  };
  if (recovered_seq < base_seq) {
    violation("I4", "recovered up to update_id " + std::to_string(recovered_seq) +
                        ", older than the state verified before (" + std::to_string(base_seq) +
                        ")");
    return out;
  }
  std::map<uint64_t, uint64_t> by_uid;  // update_id -> txn id, acknowledged
  for (const auto& [id, uid] : p.acked) {
    if (uid <= base_seq || !by_uid.emplace(uid, id).second) {
      violation("I4", "txn " + std::to_string(id) + " acknowledged with update_id " +
                          std::to_string(uid) + ", which is taken or already verified");
    }
  }
  // What the change feed showed is durable: no power loss takes it back (docs/change-feed.md).
  std::set<uint64_t> fed;  // txn ids
  for (const Read& r : p.reads) {
    if (r.feed) fed.insert(r.txn);
  }
  for (const auto& [uid, id] : by_uid) {
    if (uid <= recovered_seq || p.intents.count(id) == 0) continue;
    const bool sync = p.intents.at(id).sync;
    if (!sync && p.power_lost && fed.count(id) > 0) {
      violation("feed", "txn " + std::to_string(id) +
                            " was acknowledged as buffered with update_id " + std::to_string(uid) +
                            " and shown by the change feed, but recovery after a power loss ended "
                            "at " +
                            std::to_string(recovered_seq) +
                            ": the feed showed what was not yet durable");
    } else if (sync || !p.power_lost) {
      violation("I3", "txn " + std::to_string(id) + " was acknowledged " +
                          (sync ? "as durable (sync)" : "as buffered (it reached the OS)") +
                          " with update_id " + std::to_string(uid) + " but recovery ended at " +
                          std::to_string(recovered_seq) +
                          (sync ? "" : " after a process death without power loss"));
    }
  }
  // Reads: each names the transaction it saw and the updateId it saw it at.
  auto show_read = [&](const Read& r) {
    return std::string(r.feed ? "the change feed showed a put of '" : "a reader saw '") + r.key +
           "' at update_id " + std::to_string(r.update_id) + " (written by txn " +
           std::to_string(r.txn) + ")" + (r.via.empty() ? "" : " through " + r.via);
  };
  std::map<uint64_t, const Read*> read_of;   // txn id -> the first read that saw it
  std::map<uint64_t, uint64_t> read_at_uid;  // update_id -> txn id seen there
  for (const Read& r : p.reads) {
    if (p.intents.count(r.txn) == 0) {  // from the verified state or before
      if (r.update_id > base_seq) {
        violation("visibility",
                  show_read(r) + ", which is not in the history after update_id " +
                      std::to_string(base_seq),
                  {r.key});
      }
      continue;
    }
    auto [first, fresh] = read_of.emplace(r.txn, &r);
    auto [at, fresh_uid] = read_at_uid.emplace(r.update_id, r.txn);
    if (!fresh && first->second->update_id != r.update_id) {
      violation("visibility",
                show_read(r) + "; another saw it at update_id " +
                    std::to_string(first->second->update_id),
                {r.key});
    } else if (!fresh_uid && at->second != r.txn) {
      violation("visibility",
                show_read(r) + "; another saw txn " + std::to_string(at->second) + " there",
                {r.key});
    } else if (auto a = p.acked.find(r.txn); a != p.acked.end() && a->second != r.update_id) {
      violation(
          "visibility",
          show_read(r) + ", but it was acknowledged with update_id " + std::to_string(a->second),
          {r.key});
    } else if (auto b = by_uid.find(r.update_id); b != by_uid.end() && b->second != r.txn) {
      violation("visibility",
                show_read(r) + ", but txn " + std::to_string(b->second) +
                    " was acknowledged with that update_id",
                {r.key});
    }
  }
  // Reads in real time: after the acknowledgement of a transaction that wrote the key (put,
  // delete or invalidate: every later version has a higher updateId), a read sees that one or a
  // later one.
  {
    struct Write {
      int64_t ack_us;
      uint64_t uid;
      uint64_t txn;
      TxnOp::Kind kind;
    };
    std::map<std::string, std::vector<Write>> writes;
    for (const auto& [id, uid] : p.acked) {
      auto at = p.acked_at_us.find(id);
      auto t = p.intents.find(id);
      if (at == p.acked_at_us.end() || t == p.intents.end()) continue;
      for (const TxnOp& op : t->second.ops) {
        if (op.kind == TxnOp::kPut || op.kind == TxnOp::kDelete || op.kind == TxnOp::kInvalidate) {
          writes[op.key].push_back(Write{at->second, uid, id, op.kind});
        }
      }
    }
    for (const Read& r : p.reads) {
      if (r.feed) continue;  // history, not the current state
      auto w = writes.find(r.key);
      if (w == writes.end()) continue;
      for (const Write& wr : w->second) {
        if (wr.ack_us < r.ts_us && r.update_id < wr.uid) {
          const char* did = wr.kind == TxnOp::kPut      ? "putting"
                            : wr.kind == TxnOp::kDelete ? "deleting"
                                                        : "invalidating";
          violation("read",
                    show_read(r) + " in a read that began " + std::to_string(r.ts_us - wr.ack_us) +
                        " us after a transaction " + did + " it (txn " + std::to_string(wr.txn) +
                        ") was acknowledged with update_id " + std::to_string(wr.uid),
                    {r.key});
          break;
        }
      }
      if (!out.violations.empty()) break;
    }
  }
  for (const std::string& v : p.live_violations) violation("read", v);
  if (!out.violations.empty()) return out;

  std::vector<const Txn*> in_flight;
  for (const auto& [id, t] : p.intents) {
    if (p.acked.count(id) == 0 && p.conflicted.count(id) == 0 && p.invalid.count(id) == 0 &&
        t.sequenced) {
      in_flight.push_back(&t);
    }
  }
  // A read in-flight transaction may stay uncommitted only if a power loss could take back what
  // its mode had made visible: buffered, reached the OS, not synced.
  auto may_vanish = [&](const Txn& t) { return p.power_lost && !t.sync && fed.count(t.id) == 0; };
  // Depth-first over the updateIds after base_seq: an acknowledged txn sits at its own; a gap
  // takes one in-flight txn that commits there. With `reads`, an in-flight txn a reader saw
  // commits exactly where it was seen, or not at all if it may vanish.
  std::vector<bool> used(in_flight.size(), false);
  std::vector<std::pair<uint64_t, uint64_t>> chosen;  // (update_id, txn id)
  uint64_t steps = 0;
  // The search grows with the transactions in flight; past this it says "undecided".
  const uint64_t max_steps = kMaxSearchSteps * std::max<uint64_t>(1, in_flight.size() / 4);
  std::string model_disagrees;
  bool reads = true;
  // Recursion only at gaps, so its depth is at most the in-flight count plus one.
  std::function<bool(uint64_t, State)> dfs = [&](uint64_t pos, State s) -> bool {
    if (++steps > max_steps) return false;
    for (auto acked = by_uid.find(pos); pos <= recovered_seq && acked != by_uid.end();
         acked = by_uid.find(++pos)) {
      const Txn& t = p.intents.at(acked->second);
      if (Apply(t, pos, &s, p.limits) != Outcome::kApplied) {
        model_disagrees = "the engine committed txn " + std::to_string(t.id) + " at update_id " +
                          std::to_string(pos) + ", which the model finds a conflict there";
        return false;
      }
    }
    if (pos > recovered_seq) {
      if (!MatchesAt(s, recovered, scan_from_ms, scan_to_ms)) return false;
      if (!reads) return true;
      for (size_t i = 0; i < in_flight.size(); ++i) {
        if (!used[i] && read_of.count(in_flight[i]->id) > 0 && !may_vanish(*in_flight[i])) {
          return false;
        }
      }
      return true;
    }
    for (size_t i = 0; i < in_flight.size(); ++i) {
      if (used[i]) continue;
      if (reads) {
        auto seen = read_of.find(in_flight[i]->id);
        if (seen != read_of.end() && seen->second->update_id != pos) continue;
        if (seen == read_of.end() && read_at_uid.count(pos) > 0) continue;
      }
      State next = s;
      if (Apply(*in_flight[i], pos, &next, p.limits) != Outcome::kApplied) continue;
      used[i] = true;
      chosen.emplace_back(pos, in_flight[i]->id);
      if (dfs(pos + 1, std::move(next))) return true;
      used[i] = false;
      chosen.pop_back();
    }
    return false;
  };
  if (dfs(base_seq + 1, base)) {
    for (const auto& [uid, id] : chosen) out.committed_in_flight.push_back(id);
    CheckRejections(base, base_seq, p, by_uid, chosen, recovered_seq, &out);
    return out;
  }
  if (steps > max_steps) {  // not a verdict: the search gave up
    out.undecided = true;
    return out;
  }
  // Explained without the reads? Then what readers saw is what no crash-consistent history has.
  reads = false;
  steps = 0;
  model_disagrees.clear();
  std::fill(used.begin(), used.end(), false);
  chosen.clear();
  if (dfs(base_seq + 1, base)) {
    std::map<uint64_t, uint64_t> placed;  // txn id -> update_id in that explanation
    for (const auto& [uid, id] : chosen) placed[id] = uid;
    std::string detail = "the recovered state (last update_id " + std::to_string(recovered_seq) +
                         ") explains the history, but not what readers saw:";
    std::vector<std::string> keys;
    for (const Txn* t : in_flight) {
      auto seen = read_of.find(t->id);
      if (seen == read_of.end()) continue;
      auto at = placed.find(t->id);
      if (at != placed.end() && at->second == seen->second->update_id) continue;
      if (at == placed.end() && may_vanish(*t)) continue;
      detail += "\n    " + show_read(*seen->second) + ", " + (t->sync ? "sync" : "buffered") +
                ", never acknowledged; " +
                (at == placed.end() ? "recovery does not have it"
                                    : "recovery has it at update_id " + std::to_string(at->second));
      keys.push_back(seen->second->key);
    }
    violation("visibility", detail, keys);
    return out;
  }

  // Not explained. Show the difference from the acknowledged history alone.
  State expected = base;
  for (const auto& [uid, id] : by_uid) {
    if (uid <= recovered_seq) (void)Apply(p.intents.at(id), uid, &expected, p.limits);
  }
  std::vector<std::string> keys;
  for (const auto& [k, e] : expected) {
    auto it = recovered.find(k);
    if (it == recovered.end() || !(it->second == e)) keys.push_back(k);
  }
  for (const auto& [k, e] : recovered) {
    if (expected.count(k) == 0) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  // I2: a transaction whose writes are found for some keys and missing for others.
  std::string inv = "I4";
  for (const std::string& k : keys) {
    auto e = expected.find(k);
    if (e == expected.end()) continue;
    const uint64_t uid = e->second.update_id;
    auto found = recovered.find(k);
    // Missing or older than the transaction: its write did not land (a different value at the
    // same updateId is not half a transaction, it is a wrong one).
    if (found != recovered.end() && found->second.update_id >= uid) continue;
    const bool sibling_found = std::any_of(recovered.begin(), recovered.end(), [&](const auto& kv) {
      return kv.second.update_id == uid && expected.count(kv.first) > 0 &&
             expected.at(kv.first).update_id == uid;
    });
    if (sibling_found && uid > base_seq) inv = "I2";
  }
  std::string detail = "recovered state (last update_id " + std::to_string(recovered_seq) +
                       ") matches no prefix of the history (" + std::to_string(by_uid.size()) +
                       " acknowledged, " + std::to_string(in_flight.size()) + " in flight)";
  if (!model_disagrees.empty()) detail += "; " + model_disagrees;
  for (size_t i = 0; i < keys.size() && i < kMaxDiffs; ++i) {
    detail +=
        "\n    expected " + Show(expected, keys[i]) + "\n    found    " + Show(recovered, keys[i]);
  }
  if (keys.size() > kMaxDiffs)
    detail += "\n    ... " + std::to_string(keys.size()) + " keys differ";
  violation(inv, detail, keys);
  return out;
}

}  // namespace walcache::checker
