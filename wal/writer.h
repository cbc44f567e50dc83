// Writer: appends transactions to the WAL, one record each, with group commit.
//
// Each Submit assigns the next sequence number (dense, increasing, in Submit order) and queues
// the record; Wait blocks until the record is as durable as asked. Commit is a pipeline of two
// roles, each held by at most one waiting thread at a time:
//   - the write role takes every queued record (max_group_bytes a write call) and writes it;
//   - the sync role fdatasyncs the active segment, covering every record whose write had
//     returned when the fdatasync began, and then acknowledges exactly those.
// A record's write does not wait for an fdatasync in flight: the next group is written while
// the previous one syncs, and its fdatasync starts as soon as that one returns. The thread whose
// fdatasync returns does not wake its group before starting the next one: it hands the wake-ups
// to one woken member, which wakes the rest. So N concurrent committers share about one
// fdatasync, and fdatasyncs follow each other with little between them.
//
//   kSync:     Wait returns after an fdatasync that began after the record's write returned,
//              covering it and every earlier record, has returned OK.
//   kBuffered: Wait returns after the write; a flusher thread fdatasyncs every sync_interval.
//
// Failure is final: the first I/O error (write, fdatasync, segment creation, flusher sync) fails
// the records it covers, every record written or queued that no fdatasync in flight covers, and
// every later Submit. The writer never retries a failed fdatasync: after one, the state of
// unsynced bytes is unknown. Reopen (recover) to continue.
//
// Segments rotate when the next record would take the active one past segment_size: the old
// segment is synced before the first record of the new one is written, so a segment that has a
// successor is complete on disk (the reader relies on this). A writer opened with a SegmentEnd
// continues that segment (the newest) from its valid end while it has room, instead of starting
// a new one: a reopened cache does not leave one preallocated segment per open.
//
// I/O on a segment: writes only in the write role; fdatasyncs only in the sync role (groups',
// Sync()'s and the flusher's), so no two fdatasyncs ever race and a failed one cannot be masked
// by a concurrent one that reports success; a write may run during an fdatasync (util/
// file_system.h allows it). A rotation holds both roles.
//
// Thread-safety: Submit, Wait, Append, Sync and the accessors are thread-safe. Close (and the
// destructor) REQUIRE that no other call is in progress or follows.
#ifndef WALCACHE_WAL_WRITER_H_
#define WALCACHE_WAL_WRITER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/file_system.h"
#include "util/histogram.h"
#include "util/mutex.h"
#include "wal/compression.h"
#include "wal/record.h"
#include "wal/segment.h"
#include "walcache/durability.h"
#include "walcache/result.h"

namespace walcache::wal {

struct WriterOptions {
  // Rotate to a new segment once the next record would take the active one past this size.
  uint64_t segment_size = 64ull << 20;
  // Reserve segment_size bytes when a segment is created, so appends never grow the file.
  bool preallocate = true;
  // Cap on the bytes of one write call (a group always takes at least one record).
  size_t max_group_bytes = 1 << 20;
  CompressionOptions compression;
  // kBuffered records are fdatasynced at most this long after their write. 0: only by Sync(),
  // by a later kSync group, or on Close().
  std::chrono::milliseconds sync_interval{100};
  // Adaptive group gathering (as MySQL's binlog_group_commit_sync_delay with no_delay_count):
  // while fewer kSync records are written or queued than were in flight when the last group's
  // fdatasync returned, the would-be syncer waits up to min(half the recent fdatasync time,
  // max_group_wait) for them to arrive; the record that fills the group starts its fdatasync at
  // once. Without it, the thread that synced the last group re-submits first and syncs nearly
  // alone while its peers are still waking up, halving the records per fdatasync. 0 disables
  // it. A single committer never waits (one record was in flight).
  std::chrono::microseconds max_group_wait{200};
  // The first segment created gets max(this, highest existing number + 1).
  uint64_t min_segment_number = 1;
};

struct WriterStats {
  uint64_t records = 0;       // records written
  uint64_t record_bytes = 0;  // bytes of those records, headers included
  uint64_t raw_bytes = 0;     // their batches' bytes before compression
  uint64_t groups = 0;        // leader write calls (one per group)
  uint64_t fsyncs = 0;        // fdatasync calls on segment files, all causes
  uint64_t segments_created = 0;
  uint64_t segments_resumed = 0;  // 1 if the writer continued the newest segment at Open
  uint64_t gathers = 0;  // gathering waits that ended at their deadline, short of a full group
  // Group writes that ran while an fdatasync was in flight (the pipeline at work), and
  // fdatasyncs that began right after the previous one, before its group was woken.
  uint64_t overlapped_writes = 0;
  uint64_t chained_syncs = 0;
};

// Where recovery found the log to end: the newest segment and the offset just past its last valid
// record (or its header, if it holds none), with nothing but zeros after it.
struct SegmentEnd {
  uint64_t number = 0;
  std::string path;
  uint64_t valid_end = 0;
};

class Writer {
 public:
  struct Waiter;  // one queued record

  // Handle of a submitted record. Wait on it to learn its fate; a ticket that is never waited on
  // still has its record written, by a later leader or by Close.
  class Ticket {
   public:
    uint64_t seq() const;

   private:
    friend class Writer;
    explicit Ticket(std::shared_ptr<Waiter> w) : w_(std::move(w)) {}
    std::shared_ptr<Waiter> w_;
  };

  // Starts a writer whose first record gets `next_seq`. Without `resume`, or when the segment it
  // names has no room for another record header within segment_size, it appends to a new
  // segment of `wal_dir` (created if missing). With `resume`, it appends to that segment from
  // resume->valid_end on, first reserving (preallocate) the segment's bytes up to segment_size
  // that the file lacks, e.g. after a torn tail's truncation, and finishing the segment's
  // creation (FinishSegmentCreation: the directory synced, the witness naming it), since a crash
  // inside CreateSegment leaves a segment whose header is durable and whose name is not; nothing
  // is written to the segment until the first record.
  // REQUIRES: next_seq >= 1. REQUIRES: the segments already in wal_dir were read and their tail
  // repaired, and next_seq is one past their last record; otherwise a torn tail would become
  // corruption followed by valid records, and the sequence would have a gap.
  // REQUIRES for `resume`: it names (by number) the newest segment, every byte of it from valid_end
  // on is zero (a clean end, or a torn tail truncated at valid_end and synced), and its records are
  // durable. Bytes left between valid_end and the next record would be damage followed by valid
  // records: corruption. Errors: InvalidArgument if `resume` is not the newest segment listed,
  // or its file is shorter than valid_end; I/O errors.
  // `fs` must outlive the writer.
  static Result<std::unique_ptr<Writer>> Open(FileSystem* fs, std::string wal_dir,
                                              WriterOptions options, uint64_t next_seq,
                                              std::optional<SegmentEnd> resume = std::nullopt);

  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues a record; assigns its seq. Never blocks on I/O. InvalidArgument for a batch larger than
  // kMaxRecordPayload (nothing queued); the writer's failure once it has failed; Aborted after
  // Close. `record` comes from PrepareRecord (which may run on any thread, off any lock).
  Result<Ticket> Submit(PreparedRecord record, Durability durability);
  Result<Ticket> Submit(std::string_view batch, Durability durability);

  // Blocks until the ticket's record is durable under its mode, or failed.
  Status Wait(const Ticket& ticket);

  // Submit + Wait: returns the record's seq once it is durable under `durability`.
  Result<uint64_t> Append(std::string_view batch, Durability durability);

  // Makes every record written so far durable (one fdatasync unless nothing is pending).
  Status Sync();

  // Stops the flusher, writes any records still queued, syncs, and closes the segment.
  // Returns the writer's failure if it had failed. Idempotent.
  Status Close();

  // OK, or the error that failed the writer.
  Status health() const;
  // Highest seq assigned so far (next_seq - 1 before any Submit).
  uint64_t last_seq() const;
  // Highest seq such that it and every earlier record are durable.
  uint64_t durable_seq() const;
  // Number of the segment being appended to.
  uint64_t active_segment() const;
  WriterStats stats() const;
  // Every fdatasync of records (a group's, Sync()'s, the flusher's, a rotation's), in
  // nanoseconds; and how many records each made durable (0 for one that found them synced
  // already): the group commit's group size.
  Histogram fsync_latency() const { return fsync_ns_.Snapshot(); }
  Histogram records_per_fsync() const { return fsync_records_.Snapshot(); }

 private:
  using WakeList = std::vector<std::shared_ptr<Waiter>>;

  Writer(FileSystem* fs, std::string wal_dir, WriterOptions options, uint64_t next_seq);

  Status Start(const std::optional<SegmentEnd>& resume);
  // Opens `end`'s segment for appending at end.valid_end (Open's REQUIRES hold).
  Result<std::unique_ptr<WritableFile>> Reopen(const SegmentEnd& end,
                                               const std::vector<SegmentFile>& existing);

  // The write role (group_commit.cc). REQUIRES !writing_: takes it, writes queued records until
  // the queue is empty or the writer failed, releases it. Records done (kBuffered ones, failed
  // ones, kSync ones a rotation synced) go to `wake`.
  void WriteQueued(WakeList* wake) REQUIRES(mu_);
  // Write role, mu_ not held: writes `group` (rotating when full) and publishes written_seq_.
  Status WriteGroup(const std::deque<std::shared_ptr<Waiter>>& group, WakeList* wake) EXCLUDES(mu_);
  // Write role, mu_ not held: takes the sync role too, syncs the active segment and switches to
  // a new one whose first seq is given.
  Status Rotate(uint64_t first_seq, WakeList* wake) EXCLUDES(mu_);

  // The sync role. True iff a committer may take it now for its group: no holder, no Sync(),
  // flusher or rotation waiting for it, and a kSync record written and not synced.
  bool MaySync() const REQUIRES(mu_);
  // True iff a committer about to sync should first wait for more records. REQUIRES MaySync().
  bool ShouldGather() const REQUIRES(mu_);
  // Waits (as the one gatherer) until the group fills, `self` is done, or the deadline.
  void Gather(Waiter* self) REQUIRES(mu_);
  // Syncs for `self`'s group, and then for the next groups while they are ready, written during
  // the fdatasync before; the wake-ups of each finished group go to a delegate (DelegateWakes),
  // so they do not delay the next fdatasync. REQUIRES MaySync().
  void LeadSyncs(Waiter* self, WakeList* wake) REQUIRES(mu_);
  // One fdatasync of everything written so far, in the sync role; returns how many kSync
  // records it acknowledged. REQUIRES MaySync().
  size_t SyncOnce(WakeList* wake) REQUIRES(mu_);
  // For Sync(), the flusher and Rotate: waits for the sync role, takes it.
  void AcquireSyncRole() REQUIRES(mu_);
  void ReleaseSyncRole() REQUIRES(mu_);
  // The end of an fdatasync that covered every record <= target: acknowledges them (or, if it
  // failed, fails the writer and everything pending) into `wake`; returns how many.
  size_t FinishSync(uint64_t target, const Status& s, WakeList* wake) REQUIRES(mu_);
  // Syncs the active segment up to what is written now, in the sync role (Sync(), the flusher,
  // Close).
  Status SyncWritten() REQUIRES(mu_);

  // Wake-ups. Notify: releases mu_, notifies every waiter in `wake`, takes mu_ again.
  void Notify(WakeList* wake) REQUIRES(mu_);
  // Gives `wake` to one sleeping waiter in it other than `self`, to wake the others when it
  // runs; notifies that one only.
  void DelegateWakes(const Waiter* self, WakeList* wake) REQUIRES(mu_);
  // Wakes the oldest sleeping waiter of a written, unsynced record other than `self`, to take
  // the sync role this thread leaves (nobody while a gatherer waits: it will).
  void HandOffSync(const Waiter* self) REQUIRES(mu_);
  // Fails `w` with failed_ into `wake`.
  void FailOne(std::shared_ptr<Waiter> w, WakeList* wake) REQUIRES(mu_);
  // After a failure: fails every queued record, and every written one that the fdatasync in
  // flight (if any) does not cover.
  void FailPending(WakeList* wake) REQUIRES(mu_);
  void FlusherLoop();

  FileSystem* const fs_;
  const std::string dir_;
  const WriterOptions options_;

  mutable Mutex mu_;
  std::deque<std::shared_ptr<Waiter>> queue_ GUARDED_BY(mu_);  // not written yet, in seq order
  // kSync records written and not yet covered by an fdatasync, in seq order.
  std::deque<std::shared_ptr<Waiter>> unsynced_ GUARDED_BY(mu_);
  bool writing_ GUARDED_BY(mu_) = false;       // a thread holds the write role
  bool syncing_ GUARDED_BY(mu_) = false;       // a thread holds the sync role
  uint64_t sync_target_ GUARDED_BY(mu_) = 0;   // while syncing_: the last seq it covers
  int sync_role_waiters_ GUARDED_BY(mu_) = 0;  // threads in AcquireSyncRole
  CondVar sync_role_cv_{&mu_};
  // Records in flight when the last group's fdatasync returned (its own and those written or
  // queued meanwhile): what the next group gathers up to (adaptive gathering).
  size_t group_target_ GUARDED_BY(mu_) = 1;
  bool gathering_ GUARDED_BY(mu_) = false;   // a thread waits for the group to fill
  double sync_ewma_us_ GUARDED_BY(mu_) = 0;  // moving average of fdatasync time of groups
  bool closed_ GUARDED_BY(mu_) = false;
  bool stop_flusher_ GUARDED_BY(mu_) = false;
  Status failed_ GUARDED_BY(mu_);
  uint64_t next_seq_ GUARDED_BY(mu_);
  uint64_t written_seq_ GUARDED_BY(mu_);  // every record <= this has been written
  uint64_t synced_seq_ GUARDED_BY(mu_);   // every record <= this is durable
  WriterStats stats_ GUARDED_BY(mu_);
  // Owned by the roles, not by mu_. active_ and segment_number_ are replaced under mu_ by a
  // thread holding both roles (Rotate), so either role may use them without mu_; offset_ is the
  // write role's alone.
  std::unique_ptr<WritableFile> active_;
  uint64_t segment_number_ = 0;
  uint64_t offset_ = 0;  // end of the active segment's records

  CondVar flusher_cv_{&mu_};
  std::thread flusher_;

  // Own atomics, no lock (util/histogram.h).
  AtomicHistogram fsync_ns_{AtomicHistogram::kLatencyLog2};
  AtomicHistogram fsync_records_{AtomicHistogram::kCountLog2};
};

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_WRITER_H_
