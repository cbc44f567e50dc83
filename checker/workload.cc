// The checker's transaction generator (see workload.h).
#include "checker/workload.h"

#include <algorithm>
#include <vector>

namespace walcache::checker {
namespace {

std::string Key(char kind, uint64_t n) { return std::string(1, kind) + std::to_string(n); }

}  // namespace

std::string Generator::AnyKey(std::mt19937_64& rng) const {
  const uint64_t k = rng() % 5;
  if (k < 2) return Key('s', rng() % static_cast<uint64_t>(shape_.sources));
  if (k < 4) return Key('d', rng() % static_cast<uint64_t>(shape_.derived));
  return Key('m', rng() % static_cast<uint64_t>(shape_.multi));
}

Txn Generator::Next(std::mt19937_64& rng, uint64_t id, const ReadFn& read) const {
  Txn t;
  t.id = id;
  auto pick = [&](uint64_t n) { return rng() % n; };
  auto ttl = [&]() -> uint64_t {
    const uint64_t r = pick(6);
    if (r < 3) return 0;
    if (r < 5) return 1 + pick(shape_.short_ttl_ms);
    return shape_.short_ttl_ms + pick(shape_.long_ttl_ms);
  };
  // Keys this transaction wrote so far (derive from them with update_id 0).
  std::vector<std::string> written;
  // A key for a delete, invalidate or touch: mostly one written earlier here (what it derived
  // is then pending in this very transaction), else any.
  // Keys that an entry written here derives from: the later ops that act on them are what a
  // cascade over the reverse index of installed entries alone gets wrong.
  std::vector<std::string> sources;
  auto target = [&] {
    if (!sources.empty() && pick(2) == 0) return sources[pick(sources.size())];
    return !written.empty() && pick(3) != 0 ? written[pick(written.size())] : AnyKey(rng);
  };
  char letter = 'a';
  auto value = [&] {
    std::string v = "v" + std::to_string(id) + letter;
    letter = letter == 'z' ? 'a' : static_cast<char>(letter + 1);
    return v;
  };
  // A source to derive from: written earlier here, or read now (at its updateId, or now and then
  // a stale one, so the put conflicts).
  auto related_to = [&](const std::string& self) -> std::optional<RelatedKey> {
    if (!written.empty() && pick(3) != 0) {
      const std::string& k = written[pick(written.size())];
      if (k != self || (shape_.invalid_ops && pick(8) == 0)) return RelatedKey{k, 0};
    }
    const std::string k = pick(4) == 0 ? Key('d', pick(static_cast<uint64_t>(shape_.derived)))
                                       : Key('s', pick(static_cast<uint64_t>(shape_.sources)));
    if (k == self && !(shape_.invalid_ops && pick(8) == 0)) return std::nullopt;
    std::optional<Entry> e = read(k);
    if (!e.has_value()) {
      return pick(12) == 0 ? std::optional<RelatedKey>(RelatedKey{k, 1 + pick(1000)})
                           : std::nullopt;
    }
    const uint64_t uid = pick(16) == 0 && e->update_id > 1 ? e->update_id - 1 : e->update_id;
    return RelatedKey{k, uid};
  };

  const int n =
      pick(20) == 0 ? 0 : 1 + static_cast<int>(pick(static_cast<uint64_t>(shape_.max_ops)));
  for (int i = 0; i < n; ++i) {
    const uint64_t kind = pick(100);
    TxnOp op;
    if (kind < 40) {  // put: a source, or an entry derived from one to three others
      op.kind = TxnOp::kPut;
      const bool derived = pick(3) != 0;
      op.key = derived ? Key('d', pick(static_cast<uint64_t>(shape_.derived))) : AnyKey(rng);
      op.value = value();
      op.ttl_ms = ttl();
      if (derived) {
        size_t want = 1 + pick(3);
        if (shape_.max_related > 0 && shape_.invalid_ops && pick(40) == 0) {
          want = shape_.max_related + 1;
        }
        for (size_t r = 0; r < want; ++r) {
          if (std::optional<RelatedKey> rk = related_to(op.key)) {
            op.related.push_back(*rk);
            sources.push_back(rk->key);
          }
        }
      }
      written.push_back(op.key);
    } else if (kind < 50) {
      op.kind = TxnOp::kDelete;
      op.key = target();
    } else if (kind < 60) {
      op.kind = TxnOp::kInvalidate;
      op.key = target();
    } else if (kind < 78) {  // touch: lengthen, shorten, clear; often a key written just now
      op.kind = TxnOp::kTouch;
      op.key = target();
      const uint64_t r = pick(4);
      op.ttl_ms = r == 0 ? 0 : r == 1 ? 1 + pick(shape_.short_ttl_ms) : ttl();
    } else if (kind < 92) {  // expect what is there now (or a stale updateId)
      op.key = AnyKey(rng);
      std::optional<Entry> e = read(op.key);
      op.kind = e.has_value() || pick(4) == 0 ? TxnOp::kExpect : TxnOp::kExpectAbsent;
      op.update_id = e.has_value() ? e->update_id : 1 + pick(1000);
      if (e.has_value() && pick(12) == 0) op.update_id++;
    } else {
      op.kind = TxnOp::kExpectAbsent;
      op.key = AnyKey(rng);
    }
    t.ops.push_back(std::move(op));
  }
  const bool writes = std::any_of(t.ops.begin(), t.ops.end(), [](const TxnOp& op) {
    return op.kind == TxnOp::kPut || op.kind == TxnOp::kDelete || op.kind == TxnOp::kInvalidate;
  });
  if (shape_.always_write && !writes) {
    t.ops.push_back(TxnOp{
        TxnOp::kPut, Key('m', pick(static_cast<uint64_t>(shape_.multi))), value(), ttl(), 0, {}});
  }
  return t;
}

std::vector<std::string> Generator::AllKeys() const {
  std::vector<std::string> keys;
  for (const auto& [kind, count] : {std::pair{'s', shape_.sources}, std::pair{'d', shape_.derived},
                                    std::pair{'m', shape_.multi}}) {
    for (int i = 0; i < count; ++i) keys.push_back(Key(kind, static_cast<uint64_t>(i)));
  }
  return keys;
}

Txn Generator::Touches(std::mt19937_64& rng, uint64_t id, const ReadFn& read,
                       const TouchAim& aim) const {
  Txn t;
  t.id = id;
  const uint64_t until = aim.now_ms + aim.leap_ms;
  // Candidates: a dozen keys at random; aimed, every key of the workload in a random order.
  std::vector<std::string> candidates;
  if (aim.leap_ms == 0) {
    for (int i = 0; i < 12; ++i) candidates.push_back(AnyKey(rng));
  } else {
    candidates = AllKeys();
    std::shuffle(candidates.begin(), candidates.end(), rng);
  }
  std::vector<std::string> keys;
  for (const std::string& k : candidates) {
    if (keys.size() == 4) break;
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    std::optional<Entry> e = read(k);
    if (!e.has_value() || e->expires_at == 0) continue;
    if (aim.leap_ms == 0 || e->expires_at <= until) keys.push_back(k);
  }
  if (keys.empty()) keys.push_back(AnyKey(rng));
  for (const std::string& key : keys) {
    const uint64_t r = rng() % 4;
    uint64_t ttl = r < 2    ? 0
                   : r == 2 ? 1 + rng() % shape_.short_ttl_ms
                            : shape_.short_ttl_ms + rng() % (4 * shape_.long_ttl_ms);
    // Aimed: a lengthening Touch outlasts the leap, so that its loss shows after it.
    if (aim.leap_ms != 0 && r == 3) ttl = aim.leap_ms + shape_.short_ttl_ms + ttl;
    t.ops.push_back(TxnOp{TxnOp::kTouch, key, {}, ttl, 0, {}});
  }
  if (shape_.always_write) {
    t.ops.push_back(TxnOp{TxnOp::kPut,
                          Key('m', rng() % static_cast<uint64_t>(shape_.multi)),
                          "v" + std::to_string(id) + "t",
                          0,
                          0,
                          {}});
  }
  return t;
}

Result<uint64_t> CommitTxn(Cache* c, const Txn& t, Durability durability) {
  Transaction txn = c->Begin();
  for (const TxnOp& op : t.ops) {
    switch (op.kind) {
      case TxnOp::kPut:
        txn.Put(op.key, op.value, PutOptions{op.ttl_ms, op.related});
        break;
      case TxnOp::kDelete:
        txn.Delete(op.key);
        break;
      case TxnOp::kInvalidate:
        txn.Invalidate(op.key);
        break;
      case TxnOp::kTouch:
        txn.Touch(op.key, op.ttl_ms);
        break;
      case TxnOp::kExpect:
        txn.Expect(op.key, op.update_id);
        break;
      case TxnOp::kExpectAbsent:
        txn.ExpectAbsent(op.key);
        break;
    }
  }
  return txn.Commit(durability);
}

}  // namespace walcache::checker
