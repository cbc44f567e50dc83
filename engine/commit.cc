// The commit path: validation, cascading invalidation and TTL clamping under the sequencer,
// then the WAL, then visibility (see cache_impl.h). Also the replay sink.
#include <algorithm>
#include <deque>
#include <set>

#include "engine/batch_effects.h"
#include "engine/cache_impl.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
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

}  // namespace

Status CacheImpl::ValidateOps(const std::vector<Transaction::Op>& ops) const {
  for (const Transaction::Op& op : ops) {
    if (op.key.empty()) return Status::InvalidArgument("empty key");
    if (op.key.size() > options_.max_key_size) {
      return Status::InvalidArgument("key of " + std::to_string(op.key.size()) +
                                     " bytes exceeds max_key_size " +
                                     std::to_string(options_.max_key_size));
    }
    if (op.value.size() > options_.max_value_size) {
      return Status::InvalidArgument(
          "value of '" + op.key + "' has " + std::to_string(op.value.size()) +
          " bytes, over max_value_size " + std::to_string(options_.max_value_size));
    }
    if (op.related.size() > options_.max_related) {
      return Status::InvalidArgument("'" + op.key + "' names " + std::to_string(op.related.size()) +
                                     " related keys, over max_related " +
                                     std::to_string(options_.max_related));
    }
    if (op.ttl_ms > (UINT64_MAX >> 2)) {
      return Status::InvalidArgument("ttl of '" + op.key + "' overflows");
    }
    for (const RelatedKey& r : op.related) {
      if (r.key.empty() || r.key.size() > options_.max_key_size) {
        return Status::InvalidArgument("'" + op.key + "' names an empty or oversize related key");
      }
      if (r.key == op.key) {
        return Status::InvalidArgument("'" + op.key + "' names itself as related");
      }
    }
  }
  return Status::OK();
}

Result<std::optional<Entry>> CacheImpl::Latest(std::string_view key, uint64_t now) {
  std::optional<Entry> e;
  std::optional<Version> v = mem_->ReadLatest(key);
  if (v.has_value()) {
    e = std::move(v->entry);
  } else {
    const uint64_t gen = mem_->erase_generation(key);
    WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> stored, store_->Get(key));
    WALCACHE_KILL_POINT(kEngineReadThrough);  // checkpoints and evictions go on meanwhile
    if (stored.has_value() && !ExpiredAt(*stored, now)) {
      std::optional<Version> seen;
      if (mem_->Fill(key, *stored, gen, &seen) == MemTable::FillResult::kRetry) {
        return Latest(key, now);
      }
      e = std::move(stored);
    }
  }
  if (e.has_value() && ExpiredAt(*e, now)) e.reset();
  return e;
}

Result<std::optional<Entry>> CacheImpl::Current(const TxnOverlay& ov, const std::string& key) {
  if (const std::optional<Entry>* pending = ov.Find(key)) return *pending;
  return Latest(key, ov.now());
}

std::vector<std::string> CacheImpl::DependentCandidates(const TxnOverlay& ov,
                                                        const std::string& source) {
  std::vector<std::string> out = ov.DependentsOf(source);
  MutexLock l(&edges_mu_);
  auto it = edges_.find(source);
  if (it != edges_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void CacheImpl::DropEdge(const std::string& source, const std::string& dependent) {
  MutexLock l(&edges_mu_);
  auto it = edges_.find(source);
  if (it == edges_.end()) return;
  it->second.erase(dependent);
  if (it->second.empty()) edges_.erase(it);
}

Status CacheImpl::WalkDerived(const std::string& key, TxnOverlay* ov,
                              const std::function<bool(const std::string&, Entry*)>& step) {
  std::deque<std::string> todo{key};
  std::set<std::string> visited{key};  // each dependent is stepped on once per walk
  while (!todo.empty()) {
    const std::string source = std::move(todo.front());
    todo.pop_front();
    for (const std::string& d : DependentCandidates(*ov, source)) {
      if (visited.count(d) > 0) continue;
      WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(*ov, d));
      if (!cur.has_value() || !DerivesFrom(*cur, source)) {
        // A stale edge. Pruning it is safe: the walk sees every pending version (Current), and a
        // later version that derives from `source` adds the edge again (Install).
        if (!ov->Changed(d)) DropEdge(source, d);
        continue;
      }
      visited.insert(d);
      if (step(d, &*cur)) todo.push_back(d);
    }
  }
  return Status::OK();
}

Status CacheImpl::Cascade(const std::string& key, TxnOverlay* ov, wal::Batch* batch,
                          uint64_t* count) {
  if (BugInjected(InjectedBug::kSkipRelatedInvalidation)) return Status::OK();
  return WalkDerived(key, ov, [&](const std::string& d, Entry*) {
    ov->Set(d, std::nullopt);
    batch->Invalidate(d);
    ++*count;
    return true;  // what was derived from d is stale too
  });
}

Status CacheImpl::ClampDependents(const std::string& key, uint64_t expires_at, TxnOverlay* ov,
                                  wal::Batch* batch) {
  if (expires_at == 0) return Status::OK();
  return WalkDerived(key, ov, [&](const std::string& d, Entry* cur) {
    if (cur->expires_at != 0 && cur->expires_at <= expires_at) return false;
    cur->expires_at = expires_at;
    batch->Touch(d, expires_at);
    ov->Set(d, std::move(*cur));
    return true;
  });
}

void CacheImpl::Install(const Effects& ov, uint64_t seq) {
  const uint64_t keep = std::min(tracker_->visible(), checkpoint_pin_);
  for (const auto& [key, e] : ov) {
    if (e.has_value() && !e->related.empty()) {
      MutexLock l(&edges_mu_);
      for (const RelatedKey& r : e->related) edges_[r.key].insert(key);
    }
    mem_->Add(key, Version{seq, e}, keep);
  }
}

void CacheImpl::InstallOutsideTheSequencer(const Effects& ov, uint64_t seq) {
  Install(ov, seq);  // the planted bug reorder-apply's defect: commit_mu_ is not held
}

uint64_t CacheImpl::HorizonAt(uint64_t visible) {
  while (!sequenced_at_.empty() && sequenced_at_.front().first <= visible) {
    sequenced_at_.pop_front();
  }
  return sequenced_at_.empty() ? NowMs() : sequenced_at_.front().second;
}

Result<uint64_t> CacheImpl::Commit(const std::vector<Transaction::Op>& ops, Durability durability) {
  if (options_.read_only) return Status::Aborted(dir_ + " is open read-only");
  WALCACHE_RETURN_IF_ERROR(ValidateOps(ops));
  StallWhileMemoryFull();
  MutexLock cl(&commit_mu_);
  WALCACHE_RETURN_IF_ERROR(health());
  // Only this mutex's holder submits to the WAL, so the next seq is known in advance.
  const uint64_t seq = writer_->last_seq() + 1;
  const uint64_t now = NowMs();
  TxnOverlay ov(now);
  wal::Batch batch;
  uint64_t invalidated = 0;
  auto conflict = [&](const std::string& why) -> Status {
    conflicts_++;
    return Status::Conflict(why);
  };
  for (const Transaction::Op& op : ops) {
    switch (op.kind) {
      case Kind::kExpect: {
        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(ov, op.key));
        if (!cur.has_value() || cur->update_id != op.update_id) {
          return conflict("'" + op.key + "' is " +
                          (cur ? "at update_id " + std::to_string(cur->update_id) : "absent") +
                          ", expected " + std::to_string(op.update_id));
        }
        break;
      }
      case Kind::kExpectAbsent: {
        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(ov, op.key));
        if (cur.has_value()) {
          return conflict("'" + op.key + "' is present (update_id " +
                          std::to_string(cur->update_id) + "), expected absent");
        }
        break;
      }
      case Kind::kPut: {
        // Writing the key invalidates what was derived from it; then its own sources must hold
        // (checked after). A source that this very cascade removed derives from the key: the
        // two would derive from each other, which no state can satisfy.
        std::vector<bool> live_before(op.related.size());
        for (size_t i = 0; i < op.related.size(); ++i) {
          WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, Current(ov, op.related[i].key));
          live_before[i] = src.has_value();
        }
        WALCACHE_RETURN_IF_ERROR(Cascade(op.key, &ov, &batch, &invalidated));
        Entry e{op.value, seq, op.ttl_ms != 0 ? now + op.ttl_ms : 0, {}};
        for (size_t i = 0; i < op.related.size(); ++i) {
          const RelatedKey& r = op.related[i];
          WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, Current(ov, r.key));
          if (!src.has_value() && live_before[i]) {
            return Status::InvalidArgument("'" + op.key + "' names '" + r.key +
                                           "' as related, but '" + r.key + "' derives from '" +
                                           op.key + "': a cycle");
          }
          const uint64_t want = r.update_id == 0 ? seq : r.update_id;
          if (!src.has_value() || src->update_id != want) {
            return conflict("'" + op.key + "' derives from '" + r.key + "' at update_id " +
                            std::to_string(want) + " but it is " +
                            (src ? "at " + std::to_string(src->update_id) : "absent"));
          }
          e.related.push_back(RelatedKey{r.key, want});
          e.expires_at = EarlierExpiry(e.expires_at, src->expires_at);
        }
        batch.Put(op.key, e.value, e.expires_at, e.related);
        ov.Set(op.key, std::move(e));
        break;
      }
      case Kind::kDelete:
      case Kind::kInvalidate: {
        WALCACHE_RETURN_IF_ERROR(Cascade(op.key, &ov, &batch, &invalidated));
        if (op.kind == Kind::kDelete) {
          batch.Delete(op.key);
        } else {
          batch.Invalidate(op.key);
        }
        ov.Set(op.key, std::nullopt);
        break;
      }
      case Kind::kTouch: {
        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> cur, Current(ov, op.key));
        if (!cur.has_value()) break;
        uint64_t expires_at = op.ttl_ms != 0 ? now + op.ttl_ms : 0;
        for (const RelatedKey& r : cur->related) {  // never outlive a source
          WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, Current(ov, r.key));
          if (src.has_value()) expires_at = EarlierExpiry(expires_at, src->expires_at);
        }
        cur->expires_at = expires_at;
        batch.Touch(op.key, expires_at);
        ov.Set(op.key, std::move(cur));
        WALCACHE_RETURN_IF_ERROR(ClampDependents(op.key, expires_at, &ov, &batch));
        break;
      }
    }
  }
  if (batch.empty()) return tracker_->visible();

  if (BugInjected(InjectedBug::kAckBeforeSync)) durability = Durability::kBuffered;
  std::string encoded = batch.Encode();
  size_t logged = encoded.size();
  if (BugInjected(InjectedBug::kSplitTransaction) && batch.ops().size() >= 2) {
    // The first half as a record of its own, ahead of the rest.
    wal::Batch first;
    const size_t half = batch.ops().size() / 2;
    for (size_t i = 0; i < half; ++i) first.Add(batch.ops()[i]);
    wal::Batch rest;
    for (size_t i = half; i < batch.ops().size(); ++i) rest.Add(batch.ops()[i]);
    WALCACHE_ASSIGN_OR_RETURN(wal::Writer::Ticket t1, writer_->Submit(first.Encode(), durability));
    WALCACHE_RETURN_IF_ERROR(writer_->Wait(t1));
    tracker_->Done(t1.seq());
    encoded = rest.Encode();
    logged = encoded.size();
  }
  const bool apply_first = BugInjected(InjectedBug::kApplyBeforeLog);
  const bool apply_late = BugInjected(InjectedBug::kReorderApply);
  if (apply_first) {  // planted: applied and visible before the WAL has the record
    Install(ov.effects(), seq);
    tracker_->Done(seq);
  }
  const uint64_t seq_logged = writer_->last_seq() + 1;
  WALCACHE_ASSIGN_OR_RETURN(wal::Writer::Ticket ticket,
                            writer_->Submit(std::move(encoded), durability));
  if (ticket.seq() != seq_logged) {
    const Status s = Status::Aborted("internal: WAL assigned seq " + std::to_string(ticket.seq()) +
                                     ", expected " + std::to_string(seq));
    Fail(s);
    return s;
  }
  sequenced_at_.emplace_back(ticket.seq(), now);  // == seq, unless a planted bug split it
  (void)HorizonAt(tracker_->visible());           // keeps the queue to the transactions in flight
  if (!apply_first && !apply_late) Install(ov.effects(), seq);
  WALCACHE_KILL_POINT(kEngineApply);
  AfterCommit(logged);
  cl.Unlock();

  Status s = writer_->Wait(ticket);
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  // Logged (synced, if it asked to be), not yet visible: a checkpoint that pins now must count
  // this transaction as in flight (HorizonAt).
  WALCACHE_KILL_POINT(kEngineLogged);
  // Planted: applied after the wait, outside the commit lock — in the order the waits end, not
  // in seq order, and after later transactions were validated against a map without it.
  if (apply_late) InstallOutsideTheSequencer(ov.effects(), seq);
  tracker_->Done(ticket.seq());  // == seq, unless a planted bug split the record
  tracker_->WaitVisible(ticket.seq());
  commits_++;
  invalidations_ += invalidated;
  return seq;
}

Status CacheImpl::Apply(uint64_t seq, const wal::Batch& batch) {
  Effects ov;
  WALCACHE_RETURN_IF_ERROR(BatchEffects(
      seq, batch,
      [this](const std::string& key) -> Result<std::optional<Entry>> {
        std::optional<Version> v = mem_->ReadLatest(key);
        if (v.has_value()) return std::move(v->entry);
        return store_->Get(key);
      },
      &ov));
  {
    MutexLock l(&commit_mu_);  // replay runs before any commit; the lock is for the analysis
    Install(ov, seq);
  }
  tracker_->Done(seq);
  return Status::OK();
}

}  // namespace walcache::engine
