// The maintenance thread: background checkpoints on their triggers, the expiry sweep, and the
// write stall (see cache_impl.h).
#include <algorithm>

#include "engine/cache_impl.h"
#include "engine/log.h"

namespace walcache::engine {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// At most two checkpoints per stalled commit: if they free nothing (a failing store), the commit
// goes on over budget rather than hang.
constexpr int kMaxStallCheckpoints = 2;

}  // namespace

size_t CacheImpl::DirtyTriggerBytes() const {
  const size_t half = options_.memory_budget_bytes / 2;
  if (options_.checkpoint_dirty_bytes == 0) return half;  // the budget still needs room
  return std::min(options_.checkpoint_dirty_bytes, half);
}

const char* CacheImpl::CheckpointTrigger() const {
  if (mem_->dirty_bytes() >= DirtyTriggerBytes()) return "dirty bytes";
  const uint64_t logged = wal_bytes_.load(std::memory_order_relaxed) -
                          wal_bytes_at_checkpoint_.load(std::memory_order_relaxed);
  if (options_.checkpoint_wal_bytes != 0 && logged >= options_.checkpoint_wal_bytes) {
    return "WAL bytes";
  }
  const auto since = std::chrono::nanoseconds(SteadyNs() - last_checkpoint_ns_.load());
  if (options_.checkpoint_interval.count() > 0 && since >= options_.checkpoint_interval &&
      mem_->dirty_bytes() > 0) {
    return "interval";
  }
  return nullptr;
}

void CacheImpl::StartMaintenance() {
  last_checkpoint_ns_ = SteadyNs();
  maint_thread_ = std::thread([this] { MaintenanceLoop(); });
}

void CacheImpl::StopMaintenance() {
  {
    MutexLock l(&maint_mu_);
    maint_stop_ = true;
  }
  maint_cv_.SignalAll();
  checkpointed_cv_.SignalAll();
  if (maint_thread_.joinable()) maint_thread_.join();
}

void CacheImpl::RequestCheckpoint() {
  {
    MutexLock l(&maint_mu_);
    checkpoint_requested_ = true;
  }
  maint_cv_.Signal();
}

void CacheImpl::AfterCommit(size_t wal_bytes) {
  wal_bytes_.fetch_add(wal_bytes, std::memory_order_relaxed);
  // Size triggers only; the thread's own tick covers the interval. One wake-up per checkpoint.
  if (wakeup_pending_.load(std::memory_order_relaxed)) return;
  const uint64_t logged = wal_bytes_.load(std::memory_order_relaxed) -
                          wal_bytes_at_checkpoint_.load(std::memory_order_relaxed);
  if (mem_->dirty_bytes() >= DirtyTriggerBytes() ||
      (options_.checkpoint_wal_bytes != 0 && logged >= options_.checkpoint_wal_bytes)) {
    wakeup_pending_.store(true, std::memory_order_relaxed);
    RequestCheckpoint();
  }
}

void CacheImpl::StallWhileMemoryFull() {
  for (int i = 0; i < kMaxStallCheckpoints; ++i) {
    if (mem_->dirty_bytes() < options_.memory_budget_bytes || !health().ok()) return;
    if (i == 0) write_stalls_++;
    MutexLock l(&maint_mu_);
    const uint64_t seen = maint_passes_;
    checkpoint_requested_ = true;
    maint_cv_.Signal();
    while (!maint_stop_ && maint_passes_ <= seen) checkpointed_cv_.Wait(&maint_mu_);
    if (maint_stop_) return;
  }
}

void CacheImpl::MaintenanceLoop() {
  using std::chrono::milliseconds;
  milliseconds tick{1000};
  if (options_.checkpoint_interval.count() > 0) tick = std::min(tick, options_.checkpoint_interval);
  if (options_.expiry_sweep_interval.count() > 0) {
    tick = std::min(tick, options_.expiry_sweep_interval);
  }
  int64_t last_sweep = SteadyNs();
  bool reported = false;
  maint_mu_.Lock();
  while (!maint_stop_) {
    // Until a request, the stop, or the tick (a spurious wake-up only runs a pass early).
    if (!checkpoint_requested_) (void)maint_cv_.WaitFor(&maint_mu_, tick);
    if (maint_stop_) break;
    const bool requested = std::exchange(checkpoint_requested_, false);
    maint_mu_.Unlock();
    if (writer_ != nullptr && health().ok() && (requested || CheckpointTrigger() != nullptr)) {
      const Status s = Checkpoint();
      if (s.ok()) reported = false;  // a later failure is news again
      if (!s.ok() && !reported) {    // the caller of the next Checkpoint() or commit sees it too
        Log(options_.log, LogLevel::kError,
            dir_ + ": background checkpoint failed: " + s.ToString());
        reported = true;
      }
    }
    if (options_.expiry_sweep_interval.count() > 0 &&
        std::chrono::nanoseconds(SteadyNs() - last_sweep) >= options_.expiry_sweep_interval) {
      mem_->Sweep(NowMs());
      last_sweep = SteadyNs();
    }
    maint_mu_.Lock();
    ++maint_passes_;  // counts every pass, so a stalled commit never waits forever
    checkpointed_cv_.SignalAll();
  }
  maint_mu_.Unlock();
}

}  // namespace walcache::engine
