// SPDX-License-Identifier: Apache-2.0
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

void CacheImpl::Install(const Effects& effects, uint64_t seq) {
  const uint64_t keep = std::min(tracker_->visible(), checkpoint_pin_);
  for (const auto& [key, e] : effects) {
    if (e.has_value() && !e->related.empty()) {
      for (const RelatedKey& r : e->related) index_.Add(r.key, key, seq);
    }
    mem_->Add(key, Version{seq, e}, keep);
  }
}

void CacheImpl::InstallOutsideTheSequencer(const Effects& effects, uint64_t seq) {
  Install(effects, seq);  // the planted bug reorder-apply's defect: commit_mu_ is not held
}

uint64_t CacheImpl::HorizonAt(uint64_t visible) {
  while (!sequenced_at_.empty() && sequenced_at_.front().first <= visible) {
    sequenced_at_.pop_front();
  }
  return sequenced_at_.empty() ? NowMs() : sequenced_at_.front().second;
}

Result<std::vector<std::string>> CacheImpl::StoredDependents(const std::string& source) const {
  // Planted: the stored index is not consulted, so dependents only in RocksDB are missed.
  if (BugInjected(InjectedBug::kStoredIndexSkipped)) return std::vector<std::string>();
  return store_->Dependents(source);
}

void CacheImpl::PreRead(const std::vector<Transaction::Op>& ops, PreReads* pre) {
  pre->epoch = store_epoch_.load(std::memory_order_acquire);  // before any read
  // Not a clock reading: a transaction's instant is the sequencer's one reading (its ops' TTLs
  // and liveness, and the checker's oracle, take it), in seq order. The latest instant handed
  // out is near enough for choosing what to read.
  const uint64_t now = clock_floor_.load(std::memory_order_relaxed);
  PlanReads reads{
      [&](const std::string& key) -> Result<std::optional<Entry>> {
        auto it = pre->entries.find(key);
        if (it == pre->entries.end()) {
          // Not cached: deciding that reads the clock (Expired), and the dry run must not.
          WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> e,
                                    ReadThrough(key, View::kLatest, /*cache=*/false));
          it = pre->entries.emplace(key, std::move(e)).first;
        }
        std::optional<Entry> e = it->second;
        if (e.has_value() && ExpiredAt(*e, now)) e.reset();
        return e;
      },
      [&](const std::string& source) -> Result<std::vector<std::string>> {
        std::vector<std::string> out = index_.DependentsOf(source);  // memory first (see Commit)
        auto it = pre->dependents.find(source);
        if (it == pre->dependents.end()) {
          WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> stored, StoredDependents(source));
          it = pre->dependents.emplace(source, std::move(stored)).first;
        }
        out.insert(out.end(), it->second.begin(), it->second.end());
        return out;  // the planner sorts and dedups
      }};
  // Whatever it concludes (a conflict, a read's error) is the locked plan's to find again.
  (void)PlanCommit(ops, writer_->last_seq() + 1, now, reads);
}

Result<uint64_t> CacheImpl::Commit(const std::vector<Transaction::Op>& ops, Durability durability) {
  if (options_.read_only) return Status::Aborted(dir_ + " is open read-only");
  const uint64_t t0 = SteadyNowNs();
  WALCACHE_RETURN_IF_ERROR(ValidateOps(ops));
  StallWhileMemoryFull();
  // No RocksDB read under the sequencer lock: the dry run reads first (again, if a checkpoint's
  // store write came in between), and the locked plan takes memory's state, else what the dry
  // run read, while the store epoch is still its (pre_reads.h). Only a read the dry run did not
  // make (the state changed the plan's path) or a bump since is read under the lock, counted.
  PreReads pre;
  for (int round = 0; round < kPreReadRounds; ++round) {
    if (round > 0) pre = PreReads();
    PreRead(ops, &pre);
    if (store_epoch_.load(std::memory_order_acquire) == pre.epoch) break;
  }
  MutexLock cl(&commit_mu_);
  WALCACHE_RETURN_IF_ERROR(health());
  // Only this mutex's holder submits to the WAL, so the next seq is known in advance.
  const uint64_t seq = writer_->last_seq() + 1;
  const uint64_t now = NowMs();  // the transaction's instant: the one clock reading of a commit
  // Memory is read before the epoch is compared: a checkpoint lets go of what it stored only
  // after its bump, so memory read before that still holds it.
  auto pre_valid = [&] { return store_epoch_.load(std::memory_order_acquire) == pre.epoch; };
  auto latest = [&](const std::string& key) -> Result<std::optional<Entry>> {
    std::optional<Version> v = mem_->ReadLatest(key);
    std::optional<Entry> e;
    if (v.has_value()) {
      e = std::move(v->entry);
    } else if (auto it = pre.entries.find(key); it != pre.entries.end() && pre_valid()) {
      e = it->second;
    } else {
      store_reads_under_lock_++;
      return Latest(key, now);
    }
    if (e.has_value() && ExpiredAt(*e, now)) e.reset();
    return e;
  };
  auto dependents = [&](const std::string& source) -> Result<std::vector<std::string>> {
    std::vector<std::string> out = index_.DependentsOf(source);
    if (auto it = pre.dependents.find(source); it != pre.dependents.end() && pre_valid()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return out;
    }
    store_reads_under_lock_++;
    WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> stored, StoredDependents(source));
    out.insert(out.end(), stored.begin(), stored.end());
    return out;
  };
  StaleEdges stale;
  Result<CommitPlan> planned = PlanCommit(ops, seq, now, PlanReads{latest, dependents}, &stale);
  for (const auto& [source, dependent] : stale) index_.Drop(source, dependent);
  if (!planned.ok()) {
    if (planned.status().IsConflict()) conflicts_++;
    return planned.status();
  }
  CommitPlan& plan = *planned;
  wal::Batch& batch = plan.batch;
  const Effects& effects = plan.effects;
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
    Install(effects, seq);
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
  if (!apply_first && !apply_late) Install(effects, seq);
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
  if (apply_late) InstallOutsideTheSequencer(effects, seq);
  tracker_->Done(ticket.seq());  // == seq, unless a planted bug split the record
  tracker_->WaitVisible(ticket.seq());
  commits_++;
  invalidations_ += invalidated;
  (durability == Durability::kSync ? commit_sync_ns_ : commit_buffered_ns_)
      .Record(SteadyNowNs() - t0);
  return seq;
}

}  // namespace walcache::engine
