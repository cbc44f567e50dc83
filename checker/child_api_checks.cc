// The crash-test child's checks of the read-side API (child_internal.h): reads through a snapshot
// held across commits, and GetOrLoad's fills reported as transactions.
//
// Thread-safety: each function runs on the workload thread that calls it; they share the cache
// (thread-safe) and the pipe (ChildSend is atomic per line).
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "checker/child_internal.h"
#include "checker/protocol.h"

namespace walcache::checker {

// The bug report's monitoring check, made exact: through one snapshot, a derived entry's sources
// are live at exactly its related updateIds. The snapshot was taken at `start` and held while
// the thread and the others committed, so memory had every chance to drop what it reads. Every
// read through it is reported as a read that began at `start` (its updateId is at least the
// watermark then). Sends a 'V' message when a source does not match.
void CheckSnapshot(const Result<Snapshot>& snap, int64_t start, const Generator& gen,
                   std::mt19937_64& rng) {
  if (!snap.ok()) return;
  const std::string d = "d" + std::to_string(rng() % static_cast<uint64_t>(gen.shape().derived));
  Result<Entry> e = snap->Get(d);
  if (!e.ok()) return;
  ChildSend(EncodeRead(d, start, e->update_id, e->value, "snapshot"));
  for (const RelatedKey& r : e->related) {
    Result<Entry> src = snap->Get(r.key);
    if (src.ok()) ChildSend(EncodeRead(r.key, start, src->update_id, src->value, "snapshot"));
    if (src.ok() && src->update_id == r.update_id) continue;
    ChildSend("V through the snapshot at " + std::to_string(snap->update_id()) + ", '" + d +
              "' (update_id " + std::to_string(e->update_id) + ") derives from '" + r.key +
              "' at update_id " + std::to_string(r.update_id) + ", which the snapshot shows " +
              (src.ok() ? "at update_id " + std::to_string(src->update_id) : "absent"));
  }
}

// GetOrLoad of a derived key whose loader reads one or two sources, racing the other threads'
// writes of them. Each fill the load attempts is reported as a transaction of its own — an
// intent (ExpectAbsent, an Expect of each source, the Put derived from them) sent by the loader
// just before GetOrLoad commits it — and its outcome: another loader call means the previous
// fill conflicted; after the call, Loaded::filled says whether the last one committed. So the
// parent checks fills like any transaction (I1-I4 across deaths, each conflict against the
// model), and a stale fill that committed would be an I1 violation.
void LoadAndReport(Cache* c, const Generator& gen, const ChildPlan& plan, std::mt19937_64& rng,
                   uint64_t id) {
  const WorkloadShape& shape = gen.shape();
  const std::string key = "d" + std::to_string(rng() % static_cast<uint64_t>(shape.derived));
  std::vector<std::string> sources{"s" + std::to_string(rng() % shape.sources)};
  if (rng() % 2 == 0) {
    std::string other = "s" + std::to_string(rng() % shape.sources);
    if (other != sources[0]) sources.push_back(std::move(other));
  }
  const uint64_t ttl = rng() % 3 == 0 ? 0 : 1 + rng() % (2 * shape.short_ttl_ms);
  const bool sync = plan.durability == DurabilityMix::kSync ||
                    (plan.durability == DurabilityMix::kMixed && rng() % 2 == 0);
  std::optional<uint64_t> pending;  // the fill whose intent was sent, outcome not yet
  uint64_t attempt = 0;
  const int64_t start = MonotonicUs();
  Result<Loaded> r = c->GetOrLoad(
      key,
      [&](LoadContext& ctx) -> Result<std::string> {
        EndClockForCommit();
        if (pending.has_value()) {  // called again: that fill conflicted
          ChildSend("C " + std::to_string(*pending) + " " + std::to_string(MonotonicUs()));
          pending.reset();
        }
        Txn t;
        t.id = id | (attempt++ & 7);
        t.sync = sync;
        t.ops.push_back(TxnOp{TxnOp::kExpectAbsent, key, {}, 0, 0, {}});
        std::vector<RelatedKey> related;
        bool absent = false;
        for (const std::string& src : sources) {
          const int64_t read_start = MonotonicUs();
          Result<Entry> e = ctx.Get(src);
          if (!e.ok()) {
            if (!e.status().IsNotFound()) return e.status();
            absent = true;  // GetOrLoad returns the value unstored: no fill to report
            continue;
          }
          ChildSend(EncodeRead(src, read_start, e->update_id, e->value, "load-context"));
          t.ops.push_back(TxnOp{TxnOp::kExpect, src, {}, 0, e->update_id, {}});
          related.push_back(RelatedKey{src, e->update_id});
        }
        const std::string value = "v" + std::to_string(t.id) + "L";
        if (absent) return value;
        t.ops.push_back(TxnOp{TxnOp::kPut, key, value, ttl, 0, related});
        t.ts_us = MonotonicUs();
        if (!ChildSend(EncodeIntent(t))) ::_exit(4);
        pending = t.id;
        ClockForCommit(t.id);  // the commit that follows reads the clock for it
        return value;
      },
      {.ttl_ms = ttl, .durability = sync ? Durability::kSync : Durability::kBuffered});
  EndClockForCommit();
  if (pending.has_value()) {
    const std::string tail = std::to_string(*pending) + " " + std::to_string(MonotonicUs());
    if (r.ok() && r->filled != 0) {
      ChildSend("A " + tail + " " + std::to_string(r->filled));
    } else if (r.ok()) {
      ChildSend("C " + tail);  // it conflicted: the key was then found written, or loads ran out
    } else if (r.status().IsInvalidArgument()) {
      ChildSend("N " + tail);  // a cycle through the sources
    } else {
      ChildSend("X " + tail);
    }
  }
  if (r.ok() && r->stored) {
    ChildSend(EncodeRead(key, start, r->entry.update_id, r->entry.value, "get-or-load"));
  }
}

}  // namespace walcache::checker
