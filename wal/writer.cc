// Writer lifecycle: open, explicit sync, the buffered-mode flusher, close (see writer.h).
// The commit path (Submit, Wait, the write and sync roles) is in group_commit.cc. Thread-safe
// as writer.h says.
#include "wal/writer.h"

#include <algorithm>

#include "util/injected_bug.h"
#include "util/status_macros.h"
#include "wal/format.h"
#include "wal/segment.h"
#include "wal/writer_internal.h"

namespace walcache::wal {

uint64_t Writer::Ticket::seq() const { return w_->seq; }

Writer::Writer(FileSystem* fs, std::string wal_dir, WriterOptions options, uint64_t next_seq)
    : fs_(fs),
      dir_(std::move(wal_dir)),
      options_(options),
      next_seq_(next_seq),
      written_seq_(next_seq - 1),
      synced_seq_(next_seq - 1) {}

Result<std::unique_ptr<Writer>> Writer::Open(FileSystem* fs, std::string wal_dir,
                                             WriterOptions options, uint64_t next_seq,
                                             std::optional<SegmentEnd> resume) {
  if (next_seq == 0) return Status::InvalidArgument("WAL writer: next_seq must be >= 1");
  if (options.segment_size < kSegmentHeaderSize + kRecordHeaderSize) {
    return Status::InvalidArgument("WAL writer: segment_size " +
                                   std::to_string(options.segment_size) + " is too small");
  }
  std::unique_ptr<Writer> w(new Writer(fs, std::move(wal_dir), options, next_seq));
  WALCACHE_RETURN_IF_ERROR(w->Start(resume));
  return w;
}

Result<std::unique_ptr<WritableFile>> Writer::Reopen(const SegmentEnd& end,
                                                     const std::vector<SegmentFile>& existing) {
  if (existing.empty() || existing.back().number != end.number) {
    return Status::InvalidArgument("WAL writer: " + end.path + " is not the newest segment of " +
                                   dir_ + "; cannot continue it");
  }
  const std::string& path = existing.back().path;
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> r, fs_->OpenReadable(path));
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, r->Size());
  if (size < end.valid_end) {
    return Status::InvalidArgument("WAL writer: " + path + " holds " + std::to_string(size) +
                                   " bytes, fewer than its valid end " +
                                   std::to_string(end.valid_end));
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                            fs_->OpenWritable(path, OpenMode::kOpenExisting));
  // A torn tail's repair truncated the file: reserve the rest again, as CreateSegment did, so
  // that appends never grow it. Only bytes past the file's end are new, and they read as zeros.
  if (options_.preallocate && size < options_.segment_size) {
    WALCACHE_RETURN_IF_ERROR(file->Allocate(size, options_.segment_size - size));
  }
  return file;
}

Status Writer::Start(const std::optional<SegmentEnd>& resume) {
  const bool existed = fs_->Exists(dir_).ok();
  WALCACHE_RETURN_IF_ERROR(fs_->CreateDir(dir_));
  if (!existed) WALCACHE_RETURN_IF_ERROR(fs_->SyncDir(DirOf(dir_)));
  WALCACHE_ASSIGN_OR_RETURN(std::vector<SegmentFile> existing, ListSegments(fs_, dir_));
  // Continue the newest segment while it has room for a record; a full one rotates now.
  const bool reuse = resume.has_value() && resume->valid_end >= kSegmentHeaderSize &&
                     resume->valid_end + kRecordHeaderSize <= options_.segment_size;
  uint64_t first_seq;
  {
    MutexLock l(&mu_);
    first_seq = next_seq_;
  }
  std::unique_ptr<WritableFile> file;
  uint64_t number = 0, offset = kSegmentHeaderSize;
  if (reuse) {
    WALCACHE_ASSIGN_OR_RETURN(file, Reopen(*resume, existing));
    // The segment may be one a crash left inside CreateSegment: its name durable only once the
    // directory is synced. Records synced into it before that could vanish with it.
    if (!BugInjected(InjectedBug::kResumeHalfCreatedSegment)) {
      WALCACHE_RETURN_IF_ERROR(FinishSegmentCreation(fs_, dir_, existing.back().path));
    }
    number = resume->number;
    offset = resume->valid_end;
  } else {
    number = options_.min_segment_number;
    if (!existing.empty()) number = std::max(number, existing.back().number + 1);
    const uint64_t prealloc = options_.preallocate ? options_.segment_size : 0;
    WALCACHE_ASSIGN_OR_RETURN(file, CreateSegment(fs_, dir_, number, first_seq, prealloc));
  }
  {
    MutexLock l(&mu_);
    active_ = std::move(file);
    segment_number_ = number;
    offset_ = offset;
    if (reuse) {
      stats_.segments_resumed++;
    } else {
      stats_.segments_created++;
      stats_.fsyncs++;
    }
  }
  if (options_.sync_interval.count() > 0) flusher_ = std::thread([this] { FlusherLoop(); });
  return Status::OK();
}

Writer::~Writer() { (void)Close(); }

Status Writer::SyncWritten() {
  AcquireSyncRole();
  Status s = failed_;
  WakeList wake;
  if (s.ok() && written_seq_ > synced_seq_ && active_ != nullptr) {
    // Every record <= written_seq_ is in the active segment or in an older one that was synced
    // before the active one was created (Rotate), so syncing the active one covers them all.
    const uint64_t target = written_seq_;
    sync_target_ = target;
    mu_.Unlock();
    const uint64_t t0 = SteadyNowNs();
    s = active_->Sync();
    fsync_ns_.Record(SteadyNowNs() - t0);
    mu_.Lock();
    stats_.fsyncs++;
    (void)FinishSync(target, s, &wake);
  }
  ReleaseSyncRole();
  Notify(&wake);
  return s;
}

Status Writer::Sync() {
  MutexLock l(&mu_);
  if (closed_) return Status::Aborted("WAL writer is closed");
  return SyncWritten();
}

void Writer::FlusherLoop() {
  MutexLock l(&mu_);
  while (!stop_flusher_) {
    const auto deadline = std::chrono::steady_clock::now() + options_.sync_interval;
    while (!stop_flusher_) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      (void)flusher_cv_.WaitFor(&mu_, left);
    }
    if (stop_flusher_) break;
    (void)SyncWritten();  // a failure is recorded in failed_ and reported to every later call
  }
}

Status Writer::Close() {
  mu_.Lock();
  if (closed_) {
    const Status failed = failed_;
    mu_.Unlock();
    return failed;
  }
  stop_flusher_ = true;
  flusher_cv_.SignalAll();
  if (flusher_.joinable()) {
    mu_.Unlock();
    flusher_.join();
    mu_.Lock();
  }
  // Records whose tickets were never waited on are written now (no Wait is in progress, so
  // the write role is free).
  WakeList wake;
  while (!queue_.empty() && failed_.ok()) WriteQueued(&wake);
  Status s = SyncWritten();
  closed_ = true;
  std::unique_ptr<WritableFile> file = std::move(active_);
  mu_.Unlock();
  if (file != nullptr) {
    Status c = file->Close();
    if (s.ok()) s = c;
  }
  return s;
}

Status Writer::health() const {
  MutexLock l(&mu_);
  return failed_;
}

uint64_t Writer::last_seq() const {
  MutexLock l(&mu_);
  return next_seq_ - 1;
}

uint64_t Writer::durable_seq() const {
  MutexLock l(&mu_);
  return synced_seq_;
}

uint64_t Writer::active_segment() const {
  MutexLock l(&mu_);
  return segment_number_;
}

WriterStats Writer::stats() const {
  MutexLock l(&mu_);
  return stats_;
}

}  // namespace walcache::wal
