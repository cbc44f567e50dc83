// The commit path: the plan (engine/commit_plan.h) under the sequencer, then the WAL, then
// visibility (see cache_impl.h).
#include <algorithm>
#include <deque>
#include <set>

#include "engine/batch_effects.h"
#include "engine/cache_impl.h"
#include "engine/commit_plan.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"

namespace walcache::engine {
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

void CacheImpl::Install(Effects&& effects, uint64_t seq) {
  const uint64_t keep = std::min(tracker_->visible(), checkpoint_pin_);
  for (auto& [key, e] : effects) {
    if (e.has_value() && !e->related.empty()) {
      for (const RelatedKey& r : e->related) index_->Add(r.key, key, seq);
    }
    mem_->Add(key, Version{seq, std::move(e)}, keep);
  }
}

void CacheImpl::InstallOutsideTheSequencer(Effects&& effects, uint64_t seq) {
  Install(std::move(effects), seq);  // the planted bug reorder-apply's defect: no commit_mu_
}

void CacheImpl::Prefetch(const std::vector<Transaction::Op>& ops, uint64_t now,
                         StorePrefetch* pre) {
  pre->checkpoint_seq = store_->checkpoint_seq();  // before every read below
  pre->index_generation = index_->generation();
  PlanReads reads{[&](const std::string& key) -> Result<std::optional<Entry>> {
                    std::optional<Entry> e;
                    if (std::optional<Version> v = mem_->ReadLatest(key)) {
                      e = std::move(v->entry);
                    } else {
                      auto it = pre->entries.find(key);
                      if (it == pre->entries.end()) {
                        WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> stored, store_->Get(key));
                        it = pre->entries.emplace(key, std::move(stored)).first;
                      }
                      e = it->second;
                    }
                    if (e.has_value() && ExpiredAt(*e, now)) e.reset();
                    return e;
                  },
                  [&](const std::string& source) -> Result<std::vector<std::string>> {
                    auto it = pre->dependents.find(source);
                    if (it == pre->dependents.end()) {
                      WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> stored,
                                                index_->StoredDependentsOf(source));
                      it = pre->dependents.emplace(source, std::move(stored)).first;
                    }
                    return MergeKeys(index_->MemoryDependentsOf(source), it->second);
                  }};
  // The outcome does not matter (the sequencer plans again against the newest state); a read
  // error here is met again there.
  (void)PlanCommit(ops, writer_->last_seq() + 1, now, reads);
  WALCACHE_KILL_POINT(kEnginePrefetched);
}

bool CacheImpl::PrefetchCurrent(const StorePrefetch& pre) const {
  // Planted: the reads are trusted even after a checkpoint changed the store.
  if (BugInjected(InjectedBug::kPrefetchIgnoresCheckpoint)) return true;
  return store_->checkpoint_seq() == pre.checkpoint_seq;
}

bool CacheImpl::PrefetchedEdgesCurrent(const StorePrefetch& pre) const {
  if (BugInjected(InjectedBug::kPrefetchIgnoresCheckpoint)) return true;  // planted, as above
  return index_->generation() == pre.index_generation;
}

Result<std::optional<Entry>> CacheImpl::LatestPrefetched(const std::string& key, uint64_t now,
                                                         const StorePrefetch& pre) {
  std::optional<Entry> e;
  if (std::optional<Version> v = mem_->ReadLatest(key)) {
    e = std::move(v->entry);
  } else if (auto it = pre.entries.find(key); it != pre.entries.end() && PrefetchCurrent(pre)) {
    e = it->second;  // checked after memory's miss (store_prefetch.h)
  } else {
    sequencer_store_reads_.fetch_add(1, std::memory_order_relaxed);
    return Latest(key, now);
  }
  if (e.has_value() && ExpiredAt(*e, now)) e.reset();
  return e;
}

Result<std::vector<std::string>> CacheImpl::DependentsPrefetched(const std::string& source,
                                                                 const StorePrefetch& pre) {
  std::vector<std::string> memory = index_->MemoryDependentsOf(source);  // first
  auto it = pre.dependents.find(source);
  if (it != pre.dependents.end() && PrefetchedEdgesCurrent(pre)) {
    return MergeKeys(std::move(memory), it->second);
  }
  sequencer_store_reads_.fetch_add(1, std::memory_order_relaxed);
  WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> stored, index_->StoredDependentsOf(source));
  return MergeKeys(std::move(memory), stored);
}

uint64_t CacheImpl::HorizonAt(uint64_t visible) {
  while (!sequenced_at_.empty() && sequenced_at_.front().first <= visible) {
    sequenced_at_.pop_front();
  }
  return sequenced_at_.empty() ? NowMs() : sequenced_at_.front().second;
}

Result<uint64_t> CacheImpl::Commit(const std::vector<Transaction::Op>& ops, Durability durability) {
  if (options_.read_only) return Status::Aborted(dir_ + " is open read-only");
  const uint64_t t0 = SteadyNowNs();
  WALCACHE_RETURN_IF_ERROR(ValidateOps(ops));
  StallWhileMemoryFull();
  StorePrefetch pre;
  // The dry run needs an instant only to leave expired entries out; it takes the latest the
  // clock gave, without reading it: a commit reads the clock once, under the sequencer (the
  // crash test's clock takes that read for the transaction's instant).
  Prefetch(ops, clock_floor_.load(std::memory_order_relaxed), &pre);
  MutexLock cl(&commit_mu_);
  WALCACHE_RETURN_IF_ERROR(health());
  // Only this mutex's holder submits to the WAL, so the next seq is known in advance.
  const uint64_t seq = writer_->last_seq() + 1;
  const uint64_t now = NowMs();
  StaleEdges stale;
  // Both reads run on this thread, under commit_mu_.
  Result<CommitPlan> planned = PlanCommit(
      ops, seq, now,
      PlanReads{[&](const std::string& key)
                    NO_THREAD_SAFETY_ANALYSIS { return LatestPrefetched(key, now, pre); },
                [&](const std::string& source)
                    NO_THREAD_SAFETY_ANALYSIS { return DependentsPrefetched(source, pre); }},
      &stale);
  for (const auto& [source, dependent] : stale) index_->Drop(source, dependent);
  if (!planned.ok()) {
    if (planned.status().IsConflict()) conflicts_++;
    return planned.status();
  }
  CommitPlan& plan = *planned;
  wal::Batch& batch = plan.batch;
  Effects& effects = plan.effects;  // moved into memory by the one Install below that runs
  const uint64_t invalidated = plan.invalidated;
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
    Install(std::move(effects), seq);
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
  if (!apply_first && !apply_late) Install(std::move(effects), seq);
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
  if (apply_late) InstallOutsideTheSequencer(std::move(effects), seq);
  tracker_->Done(ticket.seq());  // == seq, unless a planted bug split the record
  tracker_->WaitVisible(ticket.seq());
  commits_++;
  invalidations_ += invalidated;
  (durability == Durability::kSync ? commit_sync_ns_ : commit_buffered_ns_)
      .Record(SteadyNowNs() - t0);
  return seq;
}

}  // namespace walcache::engine
