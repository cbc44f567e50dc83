// The WAL commit path: Submit queues a record under a fresh seq; Wait writes queued records in
// the write role, fdatasyncs written ones in the sync role, or sleeps until its record is done
// (see writer.h for the pipeline). Thread-safe.
#include <algorithm>
#include <vector>

#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
#include "wal/segment.h"
#include "wal/writer.h"
#include "wal/writer_internal.h"

namespace walcache::wal {
namespace {

// A committer whose own record is done leads at most this many more fdatasyncs in a row before
// it hands the sync role on: the disk stays busy, and no caller is held up for long.
constexpr int kSyncsPastOwn = 1;

}  // namespace

Result<Writer::Ticket> Writer::Submit(PreparedRecord record, Durability durability) {
  if (record.payload.size() > kMaxRecordPayload || record.raw_size > kMaxRecordPayload) {
    return Status::InvalidArgument("WAL record of " + std::to_string(record.raw_size) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(kMaxRecordPayload));
  }
  auto w = std::make_shared<Waiter>(&mu_);
  w->record = std::move(record);
  w->durability = durability;
  MutexLock l(&mu_);
  if (closed_ || stop_flusher_) return Status::Aborted("WAL writer is closed");
  if (!failed_.ok()) return failed_.WithContext("WAL writer failed earlier");
  w->seq = next_seq_++;
  queue_.push_back(w);
  return Ticket(std::move(w));
}

Result<Writer::Ticket> Writer::Submit(std::string_view batch, Durability durability) {
  if (batch.size() > kMaxRecordPayload) {
    return Status::InvalidArgument("WAL record of " + std::to_string(batch.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(kMaxRecordPayload));
  }
  return Submit(PrepareRecord(batch, options_.compression), durability);
}

Status Writer::Wait(const Ticket& ticket) {
  Waiter* const w = ticket.w_.get();
  WakeList wake;
  MutexLock l(&mu_);
  w->waiting = true;
  bool gathered = false;  // this thread has gathered for the group it is about to sync
  while (!w->done) {
    if (!writing_ && !queue_.empty()) {
      WriteQueued(&wake);
      Notify(&wake);
      continue;
    }
    if (MaySync()) {
      if (!ShouldGather() || gathered) {
        if (gathered && ShouldGather()) stats_.gathers++;
        gathered = false;
        LeadSyncs(w, &wake);
        Notify(&wake);
        continue;
      }
      if (!gathering_) {
        // Gather: give the previous group's members time to re-submit. Nobody wakes the
        // gatherer when the group fills: the thread whose write filled it syncs at once, which
        // saves a wake-up on the critical path. At the deadline the gatherer syncs what came.
        Gather(w);
        gathered = true;
        continue;
      }
      // Someone gathers; the thread that fills the group, or the gatherer, syncs.
    }
    w->sleeping = true;
    w->cv.Wait(&mu_);
    w->sleeping = false;
  }
  w->waiting = false;
  // E.g. a kBuffered writer leaving kSync records written, or a gatherer whose record another
  // thread's fdatasync covered: a thread that found it gathering sleeps, expecting it to sync.
  // (Planted: gatherer-leaves-silently skips the gatherer's hand-off; writer_liveness_test.)
  const bool silent = gathered && BugInjected(InjectedBug::kGathererLeavesSilently);
  if (MaySync() && !silent) HandOffSync(w);
  const Status s = w->status;
  WakeList others = std::move(w->wake_others);
  if (!others.empty()) {
    l.Unlock();
    for (const std::shared_ptr<Waiter>& o : others) o->cv.Signal();
  }
  return s;
}

Result<uint64_t> Writer::Append(std::string_view batch, Durability durability) {
  WALCACHE_ASSIGN_OR_RETURN(Ticket t, Submit(batch, durability));
  WALCACHE_RETURN_IF_ERROR(Wait(t));
  return t.seq();
}

// --- the write role ------------------------------------------------------------------------

void Writer::WriteQueued(WakeList* wake) {
  writing_ = true;
  while (!queue_.empty() && failed_.ok()) {
    std::deque<std::shared_ptr<Waiter>> group;
    size_t bytes = 0;
    while (!queue_.empty()) {
      const size_t size = queue_.front()->record.RecordSize();
      if (!group.empty() && bytes + size > options_.max_group_bytes) break;
      bytes += size;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    const bool overlapped = syncing_;
    mu_.Unlock();
    Status s = WriteGroup(group, wake);
    mu_.Lock();
    if (s.ok() && !failed_.ok()) s = failed_;  // an fdatasync failed meanwhile
    if (s.ok()) {
      stats_.groups++;
      stats_.records += group.size();
      stats_.record_bytes += bytes;
      if (overlapped) stats_.overlapped_writes++;
    } else if (failed_.ok()) {
      failed_ = s;
    }
    for (std::shared_ptr<Waiter>& q : group) {
      stats_.raw_bytes += s.ok() ? q->record.raw_size : 0;
      q->record = PreparedRecord();  // release the payload now, not when the ticket dies
      if (s.ok() && q->durability == Durability::kSync && q->seq > synced_seq_) {
        unsynced_.push_back(std::move(q));
        continue;
      }
      q->status = s;  // kBuffered: written is enough; kSync: a rotation synced it
      q->done = true;
      wake->push_back(std::move(q));
    }
    if (!s.ok()) FailPending(wake);
  }
  writing_ = false;
}

Status Writer::WriteGroup(const std::deque<std::shared_ptr<Waiter>>& group, WakeList* wake) {
  std::string buf;
  uint64_t buf_offset = offset_;
  for (const std::shared_ptr<Waiter>& q : group) {
    const uint64_t size = q->record.RecordSize();
    if (offset_ > kSegmentHeaderSize && offset_ + size > options_.segment_size) {
      if (!buf.empty()) WALCACHE_RETURN_IF_ERROR(active_->Write(buf_offset, buf));
      buf.clear();
      WALCACHE_RETURN_IF_ERROR(Rotate(q->seq, wake));
      buf_offset = offset_;
    }
    AppendRecord(q->record, q->seq, segment_number_, &buf);
    offset_ += size;
  }
  WALCACHE_KILL_POINT(kWalBeforeWrite);
  WALCACHE_RETURN_IF_ERROR(active_->Write(buf_offset, buf));
  WALCACHE_KILL_POINT(kWalAfterWrite);
  MutexLock l(&mu_);
  written_seq_ = group.back()->seq;  // an fdatasync that begins from now on covers the group
  return Status::OK();
}

Status Writer::Rotate(uint64_t first_seq, WakeList* wake) {
  WALCACHE_KILL_POINT(kWalRotate);
  {
    MutexLock l(&mu_);
    AcquireSyncRole();  // the fdatasync in flight, if any, returns first
    sync_target_ = first_seq - 1;
  }
  const uint64_t t0 = SteadyNowNs();
  Status s = active_->Sync();
  fsync_ns_.Record(SteadyNowNs() - t0);
  {
    MutexLock l(&mu_);
    stats_.fsyncs++;
    if (s.ok()) written_seq_ = first_seq - 1;
    (void)FinishSync(first_seq - 1, s, wake);
    if (!s.ok()) {
      ReleaseSyncRole();
      return s;
    }
  }
  const uint64_t prealloc = options_.preallocate ? options_.segment_size : 0;
  Result<std::unique_ptr<WritableFile>> next =
      CreateSegment(fs_, dir_, segment_number_ + 1, first_seq, prealloc);
  std::unique_ptr<WritableFile> old;
  {
    MutexLock l(&mu_);
    if (next.ok()) {
      old = std::move(active_);
      active_ = std::move(*next);
      segment_number_++;
      stats_.segments_created++;
      stats_.fsyncs++;
    }
    ReleaseSyncRole();
  }
  WALCACHE_RETURN_IF_ERROR(next.status());
  offset_ = kSegmentHeaderSize;
  // Everything in `old` is durable (synced above); a close error cannot change that.
  (void)old->Close();
  return Status::OK();
}

// --- the sync role -------------------------------------------------------------------------

bool Writer::MaySync() const {
  return !syncing_ && sync_role_waiters_ == 0 && !unsynced_.empty() && failed_.ok();
}

bool Writer::ShouldGather() const {
  // Only written records count: the write that fills the group is followed by its fdatasync.
  return options_.max_group_wait.count() > 0 && unsynced_.size() < group_target_;
}

void Writer::Gather(Waiter* self) {
  gathering_ = true;
  const auto wait = std::min<std::chrono::microseconds>(
      options_.max_group_wait, std::chrono::microseconds(static_cast<int64_t>(sync_ewma_us_ / 2)));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!self->done && MaySync() && ShouldGather()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    self->sleeping = true;
    (void)self->cv.WaitFor(&mu_, left);
    self->sleeping = false;
  }
  gathering_ = false;
}

void Writer::LeadSyncs(Waiter* self, WakeList* wake) {
  int past_own = 0;
  while (true) {
    (void)SyncOnce(wake);
    if (!MaySync()) break;  // nothing written since, or a Sync(), flusher or rotation waits
    if (!self->done) {
      if (ShouldGather()) break;  // this thread gathers the rest (Wait)
    } else if (ShouldGather() || past_own++ == kSyncsPastOwn) {
      HandOffSync(self);
      break;
    }
    // The next group is written and complete: its fdatasync goes first, and one member of the
    // finished group wakes the others.
    DelegateWakes(self, wake);
    stats_.chained_syncs++;
  }
}

size_t Writer::SyncOnce(WakeList* wake) {
  syncing_ = true;
  const uint64_t target = written_seq_;  // every write up to it has returned
  sync_target_ = target;
  mu_.Unlock();
  const uint64_t t0 = SteadyNowNs();
  WALCACHE_KILL_POINT(kWalBeforeSync);
  const Status s = active_->Sync();
  WALCACHE_KILL_POINT(kWalAfterSync);
  const uint64_t ns = SteadyNowNs() - t0;
  fsync_ns_.Record(ns);
  mu_.Lock();
  const double us = static_cast<double>(ns) / 1e3;
  sync_ewma_us_ = sync_ewma_us_ == 0 ? us : 0.9 * sync_ewma_us_ + 0.1 * us;
  stats_.fsyncs++;
  const size_t acked = FinishSync(target, s, wake);
  // Every record in flight now is expected back in the next group (a closed loop of committers).
  group_target_ = std::max<size_t>(1, acked + unsynced_.size() + queue_.size());
  syncing_ = false;
  if (sync_role_waiters_ > 0) sync_role_cv_.SignalAll();
  return acked;
}

size_t Writer::FinishSync(uint64_t target, const Status& s, WakeList* wake) {
  if (!s.ok()) {
    if (failed_.ok()) failed_ = s;
    sync_target_ = 0;  // this was the fdatasync in flight: FailPending spares nothing
    FailPending(wake);
    return 0;
  }
  fsync_records_.Record(target > synced_seq_ ? target - synced_seq_ : 0);
  synced_seq_ = std::max(synced_seq_, target);
  // Planted (ack-during-sync): also acknowledges the records written while this fdatasync ran,
  // which it need not cover.
  const bool all = BugInjected(InjectedBug::kAckDuringSync);
  size_t n = 0;
  while (!unsynced_.empty() && (unsynced_.front()->seq <= target || all)) {
    std::shared_ptr<Waiter> q = std::move(unsynced_.front());
    unsynced_.pop_front();
    q->status = Status::OK();
    q->done = true;
    wake->push_back(std::move(q));
    ++n;
  }
  if (!failed_.ok()) FailPending(wake);  // a write failed during this fdatasync
  return n;
}

void Writer::AcquireSyncRole() {
  ++sync_role_waiters_;
  while (syncing_) sync_role_cv_.Wait(&mu_);
  --sync_role_waiters_;
  syncing_ = true;
}

void Writer::ReleaseSyncRole() {
  syncing_ = false;
  if (sync_role_waiters_ > 0) {
    sync_role_cv_.SignalAll();
  } else if (MaySync()) {
    HandOffSync(nullptr);
  }
}

// --- wake-ups and failure ------------------------------------------------------------------

void Writer::Notify(WakeList* wake) {
  if (wake->empty()) return;
  // Outside the lock, so that woken threads do not block on mu_ at once. `wake` keeps every
  // Waiter (and so its cv) alive until the notifications are done.
  mu_.Unlock();
  for (const std::shared_ptr<Waiter>& q : *wake) q->cv.Signal();
  wake->clear();
  mu_.Lock();
}

void Writer::DelegateWakes(const Waiter* self, WakeList* wake) {
  std::shared_ptr<Waiter> delegate;
  for (std::shared_ptr<Waiter>& q : *wake) {
    if (q.get() == self || !q->sleeping) continue;  // an awake waiter sees `done` itself
    if (delegate == nullptr) {
      delegate = std::move(q);
    } else {
      delegate->wake_others.push_back(std::move(q));
    }
  }
  wake->clear();
  if (delegate != nullptr) delegate->cv.Signal();
}

void Writer::HandOffSync(const Waiter* self) {
  if (gathering_) return;  // the gatherer syncs at its deadline, or the write that fills the group
  for (const std::shared_ptr<Waiter>& q : unsynced_) {
    if (q.get() != self && q->sleeping) {
      q->cv.Signal();
      return;
    }
  }
}

void Writer::FailOne(std::shared_ptr<Waiter> w, WakeList* wake) {
  w->record = PreparedRecord();
  w->status = failed_;
  w->done = true;
  wake->push_back(std::move(w));
}

void Writer::FailPending(WakeList* wake) {
  while (!queue_.empty()) {
    FailOne(std::move(queue_.front()), wake);
    queue_.pop_front();
  }
  // The fdatasync in flight decides for the records it covers (FinishSync).
  const uint64_t covered = syncing_ ? sync_target_ : 0;
  while (!unsynced_.empty() && unsynced_.back()->seq > covered) {
    FailOne(std::move(unsynced_.back()), wake);
    unsynced_.pop_back();
  }
}

}  // namespace walcache::wal
