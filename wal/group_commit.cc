// The WAL commit path: Submit queues a record under a fresh seq; Wait either finds its record
// done or leads a group (see writer.h for the protocol). Thread-safe.
#include <algorithm>
#include <vector>

#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
#include "wal/segment.h"
#include "wal/writer.h"
#include "wal/writer_internal.h"

namespace walcache::wal {

Result<Writer::Ticket> Writer::Submit(PreparedRecord record, Durability durability) {
  if (record.payload.size() > kMaxRecordPayload || record.raw_size > kMaxRecordPayload) {
    return Status::InvalidArgument("WAL record of " + std::to_string(record.raw_size) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(kMaxRecordPayload));
  }
  auto w = std::make_shared<Waiter>();
  w->record = std::move(record);
  w->durability = durability;
  std::lock_guard<std::mutex> l(mu_);
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

bool Writer::ShouldGather() const {
  return options_.max_group_wait.count() > 0 && failed_.ok() && !queue_.empty() &&
         queue_.size() < last_group_size_ && queue_.front()->durability == Durability::kSync;
}

Status Writer::Wait(const Ticket& ticket) {
  const std::shared_ptr<Waiter>& w = ticket.w_;
  std::unique_lock<std::mutex> l(mu_);
  w->waiting = true;
  while (!w->done) {
    if (leading_) {
      w->cv.wait(l);
    } else if (!ShouldGather()) {
      LeadOneGroup(l);
    } else if (!gathering_) {
      // Gather: give the previous group's members time to re-submit. Nobody wakes the gatherer
      // when the group fills: the thread whose Submit filled it finds no leader and leads at
      // once, which saves a wake-up on the critical path. At the deadline the gatherer leads
      // with what has come.
      gathering_ = true;
      const auto wait = std::min<std::chrono::microseconds>(
          options_.max_group_wait,
          std::chrono::microseconds(static_cast<int64_t>(sync_ewma_us_ / 2)));
      w->cv.wait_for(l, wait, [&] { return w->done || leading_; });
      gathering_ = false;
      if (!w->done && !leading_) {
        stats_.gathers++;
        LeadOneGroup(l);
      } else if (!leading_) {
        // Another thread led this record's group. A thread that found this one gathering went
        // to sleep expecting it to lead: hand the role on, or it sleeps for ever. (Planted:
        // gatherer-leaves-silently leaves without it; tests/writer_liveness_test.cc.)
        if (!BugInjected(InjectedBug::kGathererLeavesSilently)) WakeOldestWaiter();
      }
    } else {
      w->cv.wait(l);  // the gatherer, or whoever fills the group, leads
    }
  }
  w->waiting = false;
  return w->status;
}

Result<uint64_t> Writer::Append(std::string_view batch, Durability durability) {
  WALCACHE_ASSIGN_OR_RETURN(Ticket t, Submit(batch, durability));
  WALCACHE_RETURN_IF_ERROR(Wait(t));
  return t.seq();
}

void Writer::FailQueued() {
  while (!queue_.empty()) {
    std::shared_ptr<Waiter> q = std::move(queue_.front());
    queue_.pop_front();
    q->status = failed_;
    q->done = true;
    if (q->waiting) q->cv.notify_one();
  }
}

void Writer::LeadOneGroup(std::unique_lock<std::mutex>& l) {
  leading_ = true;
  // The group leaves the queue now, so that FailQueued (e.g. from a failing flusher) can only
  // touch records that no leader has taken.
  std::deque<std::shared_ptr<Waiter>> group;
  size_t bytes = 0;
  bool sync = false;
  while (!queue_.empty()) {
    const size_t size = queue_.front()->record.RecordSize();
    if (!group.empty() && bytes + size > options_.max_group_bytes) break;
    sync |= queue_.front()->durability == Durability::kSync;
    bytes += size;
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  Status s = failed_;
  if (s.ok()) {
    l.unlock();
    s = WriteGroup(group, sync);
    l.lock();
    if (s.ok() && !failed_.ok()) s = failed_;
    if (s.ok()) {
      stats_.groups++;
      stats_.records += group.size();
      stats_.record_bytes += bytes;
      for (const auto& q : group) stats_.raw_bytes += q->record.raw_size;
    } else if (failed_.ok()) {
      failed_ = s;
    }
  }
  last_group_size_ = group.size();
  std::vector<std::condition_variable*> wake;
  for (const std::shared_ptr<Waiter>& q : group) {
    q->record = PreparedRecord();  // release the payload now, not when the ticket dies
    q->status = s;
    q->done = true;
    if (q->waiting) wake.push_back(&q->cv);
  }
  if (!failed_.ok()) FailQueued();
  ReleaseLeadership();
  // Wake the group outside the lock, so that woken threads do not block on mu_ at once.
  // `group` keeps every Waiter (and so its cv) alive until the notifications are done.
  l.unlock();
  for (std::condition_variable* cv : wake) cv->notify_one();
  l.lock();
}

void Writer::AcquireLeadership(std::unique_lock<std::mutex>& l) {
  ++leadership_waiters_;
  leader_cv_.wait(l, [this] { return !leading_; });
  --leadership_waiters_;
  leading_ = true;
}

void Writer::ReleaseLeadership() {
  leading_ = false;
  if (leadership_waiters_ > 0) {
    leader_cv_.notify_one();
    return;
  }
  WakeOldestWaiter();
}

void Writer::WakeOldestWaiter() {
  // Hand leadership to the oldest record someone is waiting for.
  for (const std::shared_ptr<Waiter>& q : queue_) {
    if (q->waiting) {
      q->cv.notify_one();
      break;
    }
  }
}

Status Writer::WriteGroup(const std::deque<std::shared_ptr<Waiter>>& group, bool sync) {
  std::string buf;
  uint64_t buf_offset = offset_;
  for (const std::shared_ptr<Waiter>& q : group) {
    const uint64_t size = q->record.RecordSize();
    if (offset_ > kSegmentHeaderSize && offset_ + size > options_.segment_size) {
      if (!buf.empty()) WALCACHE_RETURN_IF_ERROR(active_->Write(buf_offset, buf));
      buf.clear();
      WALCACHE_RETURN_IF_ERROR(Rotate(q->seq));
      buf_offset = offset_;
    }
    AppendRecord(q->record, q->seq, segment_number_, &buf);
    offset_ += size;
  }
  WALCACHE_KILL_POINT(kWalBeforeWrite);
  WALCACHE_RETURN_IF_ERROR(active_->Write(buf_offset, buf));
  WALCACHE_KILL_POINT(kWalAfterWrite);
  const uint64_t last = group.back()->seq;
  {
    std::lock_guard<std::mutex> g(mu_);
    written_seq_ = last;
  }
  if (!sync) return Status::OK();
  const uint64_t t0 = SteadyNowNs();
  WALCACHE_KILL_POINT(kWalBeforeSync);
  Status s = active_->Sync();
  WALCACHE_KILL_POINT(kWalAfterSync);
  const uint64_t ns = SteadyNowNs() - t0;
  fsync_ns_.Record(ns);
  std::lock_guard<std::mutex> g(mu_);
  const double us = static_cast<double>(ns) / 1e3;
  sync_ewma_us_ = sync_ewma_us_ == 0 ? us : 0.9 * sync_ewma_us_ + 0.1 * us;
  stats_.fsyncs++;
  if (s.ok()) {
    fsync_records_.Record(last > synced_seq_ ? last - synced_seq_ : 0);
    synced_seq_ = std::max(synced_seq_, last);
  }
  return s;
}

Status Writer::Rotate(uint64_t first_seq) {
  WALCACHE_KILL_POINT(kWalRotate);
  const uint64_t t0 = SteadyNowNs();
  Status s = active_->Sync();
  fsync_ns_.Record(SteadyNowNs() - t0);
  {
    std::lock_guard<std::mutex> g(mu_);
    stats_.fsyncs++;
    if (s.ok()) {
      fsync_records_.Record(first_seq - 1 > synced_seq_ ? first_seq - 1 - synced_seq_ : 0);
      written_seq_ = first_seq - 1;
      synced_seq_ = std::max(synced_seq_, first_seq - 1);
    }
  }
  WALCACHE_RETURN_IF_ERROR(s);
  const uint64_t prealloc = options_.preallocate ? options_.segment_size : 0;
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> next,
                            CreateSegment(fs_, dir_, segment_number_ + 1, first_seq, prealloc));
  std::unique_ptr<WritableFile> old;
  {
    std::lock_guard<std::mutex> g(mu_);
    old = std::move(active_);
    active_ = std::move(next);
    segment_number_++;
    stats_.segments_created++;
    stats_.fsyncs++;
  }
  offset_ = kSegmentHeaderSize;
  // Everything in `old` is durable (synced above); a close error cannot change that.
  (void)old->Close();
  return Status::OK();
}

}  // namespace walcache::wal
