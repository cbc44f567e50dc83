// CacheImpl lifecycle: open (recovery, prewarm, maintenance), close, health (see cache_impl.h).
#include <cerrno>
#include <chrono>

#include "engine/cache_impl.h"
#include "engine/log.h"
#include "engine/recovery_record.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
#include "wal/newest.h"
#include "wal/segment.h"

namespace walcache::engine {
namespace {

// The first seq of the WAL's oldest segment; 0 if there is none or its header is unreadable.
uint64_t WalFirstSeq(FileSystem* fs, const std::string& wal_dir) {
  Result<std::vector<wal::SegmentFile>> segments = wal::ListSegments(fs, wal_dir);
  if (!segments.ok() || segments->empty()) return 0;
  wal::SegmentHeader h;
  return wal::ReadSegmentHeaderBytes(fs, segments->front().path, &h).ok() ? h.first_seq : 0;
}

// Creates `path` and its missing parents, each mode 0700 (CreateDir's), shortest first.
Status CreateDirs(FileSystem* fs, const std::string& path) {
  for (size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1)) {
    const std::string parent = path.substr(0, at);
    if (parent.empty() || parent.back() == '/') continue;
    if (fs->Exists(parent).ok()) continue;
    WALCACHE_RETURN_IF_ERROR(fs->CreateDir(parent));
  }
  return fs->CreateDir(path);
}

// Where Open stands before touching anything: `dir` exists (as a directory), and it holds a cache
// (DIR/rocksdb exists). A plain file, or a path through one, is InvalidArgument.
Status ProbeCacheDir(FileSystem* fs, const std::string& dir, bool* exists, bool* holds_cache) {
  *exists = false;
  *holds_cache = false;
  Status e = fs->Exists(dir);
  if (e.IsNotFound()) return Status::OK();
  if (!e.ok() && e.sys_errno() == ENOTDIR) {
    return Status::InvalidArgument(dir + ": a part of this path is a file, not a directory");
  }
  WALCACHE_RETURN_IF_ERROR(e);
  Status r = fs->Exists(JoinPath(dir, "rocksdb"));
  if (!r.ok() && r.sys_errno() == ENOTDIR) {
    return Status::InvalidArgument(dir + " is a file, not a cache directory");
  }
  if (!r.ok() && !r.IsNotFound()) return r;
  *exists = true;
  *holds_cache = r.ok();
  return Status::OK();
}

// Where the writer continues the newest segment: at its valid end, when nothing but zeros follows
// it now (a clean end without an older segment's leftovers, or a torn tail the replay just cut
// there) and the next record, seq `last` + 1, continues its sequence. Otherwise none: a new
// segment.
std::optional<wal::SegmentEnd> ResumePoint(const recovery::ReplayReport& report, uint64_t last) {
  const wal::TailReport& t = report.tail;
  if (t.file.empty() || t.valid_end == 0 || t.last_seq != last) return std::nullopt;
  if (BugInjected(InjectedBug::kResumeAfterTornTail) && t.state == wal::TailState::kTorn) {
    // The planted bug: the torn bytes stay, and the next record goes after them.
    return wal::SegmentEnd{t.segment, t.file, t.valid_end + t.dropped_bytes};
  }
  const bool zeros_follow = (t.state == wal::TailState::kClean && t.stale_bytes == 0) ||
                            (t.state == wal::TailState::kTorn && report.tail_repaired);
  if (!zeros_follow || t.in_progress) return std::nullopt;
  return wal::SegmentEnd{t.segment, t.file, t.valid_end};
}

}  // namespace

CacheImpl::CacheImpl(std::string dir, const Options& options, const Seams& seams)
    : dir_(std::move(dir)),
      options_(options),
      fs_(seams.fs != nullptr ? seams.fs : FileSystem::Posix()),
      rocks_fs_(seams.rocks_fs) {}

std::string CacheImpl::WalDir() const { return JoinPath(dir_, "wal"); }

uint64_t CacheImpl::NowMs() const {
  const uint64_t t =
      options_.clock_ms
          ? options_.clock_ms()
          : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
  // A clock stepped back (or a test clock set back) stops the cache's time instead: expiry
  // decisions, and the horizon checkpoints store, never go back.
  uint64_t floor = clock_floor_.load(std::memory_order_relaxed);
  while (t > floor && !clock_floor_.compare_exchange_weak(floor, t, std::memory_order_relaxed)) {
  }
  return std::max(t, floor);
}

Result<std::unique_ptr<CacheImpl>> CacheImpl::Open(const std::string& dir, const Options& options,
                                                   const Seams& seams) {
  std::unique_ptr<CacheImpl> c(new CacheImpl(dir, options, seams));
  WALCACHE_RETURN_IF_ERROR(c->OpenImpl());
  return c;
}

Status CacheImpl::OpenImpl() {
  const auto start = std::chrono::steady_clock::now();
  bool exists = false, holds_cache = false;
  WALCACHE_RETURN_IF_ERROR(ProbeCacheDir(fs_, dir_, &exists, &holds_cache));
  const bool may_create = options_.create_if_missing && !options_.read_only;
  if (!exists && !may_create) return Status::NotFound(dir_ + ": no such cache directory");
  if (exists && !holds_cache && !may_create) {
    return Status::InvalidArgument(dir_ + " is not a walcache directory (it has no rocksdb/)");
  }
  if (holds_cache && options_.error_if_exists && !options_.read_only) {
    return Status::InvalidArgument(dir_ + " already holds a cache (error_if_exists is set)");
  }
  if (!exists) WALCACHE_RETURN_IF_ERROR(CreateDirs(fs_, dir_));
  auto lock = fs_->LockFile(JoinPath(dir_, "LOCK"));
  if (lock.status().IsBusy()) {
    return Status::Busy(dir_ + " is already open: " + lock.status().message());
  }
  WALCACHE_ASSIGN_OR_RETURN(dir_lock_, std::move(lock));
  WALCACHE_ASSIGN_OR_RETURN(
      feed_, FeedRetention::Open(fs_, dir_, options_.wal_retention_bytes, options_.read_only));

  StoreOptions so;
  so.create_if_missing = may_create;
  so.read_only = options_.read_only;
  so.block_cache_bytes = options_.block_cache_bytes;
  so.write_buffer_bytes = options_.write_buffer_bytes;
  so.now_ms = [this] { return NowMs(); };
  so.file_system = rocks_fs_;
  WALCACHE_ASSIGN_OR_RETURN(store_, RocksStore::Open(JoinPath(dir_, "rocksdb"), so));
  const uint64_t s0 = store_->checkpoint_seq();
  // The records to replay were sequenced at or after the store's expiry horizon; so must be
  // every new one, whatever the clock says now.
  const uint64_t horizon = store_->expiry_horizon();
  uint64_t floor = clock_floor_.load(std::memory_order_relaxed);
  while (horizon > floor &&
         !clock_floor_.compare_exchange_weak(floor, horizon, std::memory_order_relaxed)) {
  }
  // The stored index is read on demand; memory gets the edges of what replay installs. The
  // stored lists it caches have an eighth of the budget; the map has the rest.
  const size_t index_cache_bytes = options_.memory_budget_bytes / 8;
  index_ = std::make_unique<ReverseIndex>(store_.get(), index_cache_bytes);
  tracker_ = std::make_unique<VisibilityTracker>(s0);
  mem_ = std::make_unique<MemTable>(tracker_->watermark(),
                                    options_.memory_budget_bytes - index_cache_bytes,
                                    MemTable::ShardsFor(options_.memory_budget_bytes));
  snapshots_ = std::make_unique<SnapshotRegistry>(mem_.get());

  recovery::ReplayOptions ro;
  ro.from_seq = s0 + 1;
  ro.repair_tail = !options_.read_only;
  Result<recovery::ReplayReport> replayed = recovery::Replay(fs_, WalDir(), this, ro);
  if (!replayed.ok()) {
    // Say which checkpoint the WAL failed to continue: with records missing, RocksDB may have
    // lost a checkpoint as much as the WAL a segment, and then its logs are the suspects.
    Status s = replayed.status().WithContext(JoinPath(dir_, "rocksdb") +
                                             " holds the checkpoint at seq " + std::to_string(s0));
    if (s.IsCorruption() && WalFirstSeq(fs_, WalDir()) > s0 + 1) {
      s = Status::Corruption(s.message() + "; " + store_->RecoveredLogsHint());
    }
    return s;
  }
  const recovery::ReplayReport report = std::move(replayed).value();
  if (report.segments > 0 && report.last_seq < s0) {
    return Status::Corruption(dir_ + ": RocksDB holds state as of seq " + std::to_string(s0) +
                              " but the WAL ends at seq " + std::to_string(report.last_seq));
  }
  const uint64_t last = std::max(s0, report.last_seq);
  recovery_.checkpoint_seq = s0;
  recovery_.records_replayed = report.records_applied;
  recovery_.bytes_replayed = report.bytes_applied;
  recovery_.segments = report.segments;
  recovery_.tail_bytes_dropped =
      report.tail.state == wal::TailState::kTorn ? report.tail.dropped_bytes : 0;
  recovery_.last_seq = last;

  if (!options_.read_only) {
    wal::WriterOptions wo;
    wo.segment_size = options_.wal_segment_size;
    wo.sync_interval = options_.sync_interval;
    wo.compression.enabled = options_.compression;
    wo.compression.threshold = options_.compression_threshold;
    WALCACHE_ASSIGN_OR_RETURN(
        writer_, wal::Writer::Open(fs_, WalDir(), wo, last + 1, ResumePoint(report, last)));
  }
  WALCACHE_RETURN_IF_ERROR(Prewarm());
  recovery_.micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());
  recovery_.summary = "checkpoint seq " + std::to_string(s0) + "; " + report.ToString();
  if (recovery_.tail_bytes_dropped > 0) {
    // The bytes cannot say whether the record was acknowledged before it was damaged.
    recovery_.summary += "; the dropped bytes were the start of seq " +
                         std::to_string(report.tail.last_seq + 1) +
                         " (a torn write or a damaged last record: if it was acknowledged, it is "
                         "lost)";
  }
  if (recovery_.prewarmed_entries > 0) {
    recovery_.summary += "; prewarmed " + std::to_string(recovery_.prewarmed_entries) +
                         " entries (" + std::to_string(recovery_.prewarmed_bytes) + " bytes)";
  }
  if (!options_.read_only) {
    // Informational (for `walcache inspect`): a failure to write it does not fail the open.
    const Status w = WriteRecoveryRecord(fs_, dir_, recovery_, NowMs());
    if (!w.ok()) {
      Log(options_.log, LogLevel::kWarning,
          dir_ + ": cannot record the recovery report: " + w.ToString());
    }
  }
  get_clock_.Calibrate();  // over the open, which began when get_clock_ was made
  StartMaintenance();
  return Status::OK();
}

CacheImpl::~CacheImpl() {
  if (!closed_) (void)Close(nullptr);
}

Status CacheImpl::Close(CacheStats* final_stats) {
  closed_ = true;
  StopMaintenance();
  Status s;
  if (writer_ != nullptr) {
    // A failed cache skips the checkpoint and reports the failure that stopped its writes.
    s = health();
    if (s.ok()) s = Checkpoint();
    const Status w = writer_->Close();
    if (s.ok()) s = w;
  }
  if (final_stats != nullptr) *final_stats = Stats();
  if (store_ != nullptr) {
    const Status r = store_->Close();
    if (s.ok()) s = r;
  }
  dir_lock_.reset();  // another Cache may open the directory now
  return s;
}

Status CacheImpl::health() const { return health_.status(); }

void CacheImpl::Fail(const Status& s) { health_.Fail(s); }

}  // namespace walcache::engine
