// The checks after every death (see verify.h).
#include "checker/verify.h"

#include <algorithm>
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
  }
  return out;
}

Reconciled Reconcile(const State& base, uint64_t base_seq, const Pending& p, const State& recovered,
                     uint64_t recovered_seq) {
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
  for (const auto& [uid, id] : by_uid) {
    if (uid > recovered_seq && p.intents.count(id) > 0 && p.intents.at(id).sync) {
      violation("I3", "txn " + std::to_string(id) +
                          " was acknowledged as durable (sync) with "
                          "update_id " +
                          std::to_string(uid) + " but recovery ended at " +
                          std::to_string(recovered_seq));
    }
  }
  if (!out.violations.empty()) return out;

  std::vector<const Txn*> in_flight;
  for (const auto& [id, t] : p.intents) {
    if (p.acked.count(id) == 0 && p.conflicted.count(id) == 0) in_flight.push_back(&t);
  }
  // Depth-first over the updateIds after base_seq: an acknowledged txn sits at its own; a gap
  // takes one in-flight txn that commits there.
  std::vector<bool> used(in_flight.size(), false);
  std::vector<uint64_t> chosen;
  uint64_t steps = 0;
  std::string model_disagrees;
  // Recursion only at gaps, so its depth is at most the in-flight count plus one.
  std::function<bool(uint64_t, State)> dfs = [&](uint64_t pos, State s) -> bool {
    if (++steps > kMaxSearchSteps) return false;
    for (auto acked = by_uid.find(pos); pos <= recovered_seq && acked != by_uid.end();
         acked = by_uid.find(++pos)) {
      const Txn& t = p.intents.at(acked->second);
      if (Apply(t, pos, &s) != Outcome::kApplied) {
        model_disagrees = "the engine committed txn " + std::to_string(t.id) + " at update_id " +
                          std::to_string(pos) + ", which the model finds a conflict there";
        return false;
      }
    }
    if (pos > recovered_seq) return s == recovered;
    for (size_t i = 0; i < in_flight.size(); ++i) {
      if (used[i]) continue;
      State next = s;
      if (Apply(*in_flight[i], pos, &next) != Outcome::kApplied) continue;
      used[i] = true;
      chosen.push_back(in_flight[i]->id);
      if (dfs(pos + 1, std::move(next))) return true;
      used[i] = false;
      chosen.pop_back();
    }
    return false;
  };
  if (dfs(base_seq + 1, base)) {
    out.committed_in_flight = chosen;
    return out;
  }

  // Not explained. Show the difference from the acknowledged history alone.
  State expected = base;
  for (const auto& [uid, id] : by_uid) {
    if (uid <= recovered_seq) (void)Apply(p.intents.at(id), uid, &expected);
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
  if (steps > kMaxSearchSteps) detail += "; search cut short";
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
