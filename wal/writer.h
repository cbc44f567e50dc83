// Writer: appends transactions to the WAL, one record each, with group commit.
//
// Each Submit assigns the next sequence number (dense, increasing, in Submit order) and queues
// the record; Wait blocks until the record is as durable as asked. Whichever waiting thread
// finds no leader becomes the leader: it takes the records at the head of the queue (up to
// max_group_bytes, at least one), writes them with one write call and, if any of them asked for
// kSync, one fdatasync, then wakes them. While it does I/O, new records queue up behind it and
// become the next group, so N concurrent committers share about one fdatasync.
//
//   kSync:     Wait returns after the record and every earlier one are on stable storage.
//   kBuffered: Wait returns after the write; a flusher thread fdatasyncs every sync_interval.
//
// Failure is final: the first I/O error (write, fdatasync, segment creation, flusher sync) fails
// the group in flight and every queued record with that error, and every later Submit. The
// writer never retries a failed fdatasync: after one, the state of unsynced bytes is unknown.
// Reopen (recover) to continue.
//
// Segments rotate when the next record would take the active one past segment_size: the old
// segment is synced before the first record of the new one is written, so a segment that has a
// successor is complete on disk (the reader relies on this). A writer opened with a SegmentEnd
// continues that segment (the newest) from its valid end while it has room, instead of starting
// a new one: a reopened cache does not leave one preallocated segment per open.
//
// All I/O on a segment happens in the leader role, one thread at a time (see AcquireLeadership).
//
// Thread-safety: Submit, Wait, Append, Sync and the accessors are thread-safe. Close (and the
// destructor) REQUIRE that no other call is in progress or follows.
#ifndef WALCACHE_WAL_WRITER_H_
#define WALCACHE_WAL_WRITER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/file_system.h"
#include "util/histogram.h"
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
  // Cap on the bytes one leader writes in one group (a group always takes at least one record).
  size_t max_group_bytes = 1 << 20;
  CompressionOptions compression;
  // kBuffered records are fdatasynced at most this long after their write. 0: only by Sync(),
  // by a later kSync group, or on Close().
  std::chrono::milliseconds sync_interval{100};
  // Adaptive group gathering (as MySQL's binlog_group_commit_sync_delay with no_delay_count):
  // while the queue holds fewer records than the previous group had, the would-be leader waits
  // up to min(half the recent fdatasync time, max_group_wait) for them to arrive.
  // Without it, the thread that led the last group re-submits first and syncs nearly alone while
  // its peers are still waking up, halving the records per fdatasync. 0 disables it. A single
  // committer never waits (its previous group had one record).
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
  Writer(FileSystem* fs, std::string wal_dir, WriterOptions options, uint64_t next_seq);

  Status Start(const std::optional<SegmentEnd>& resume);
  // Opens `end`'s segment for appending at end.valid_end (Open's REQUIRES hold).
  Result<std::unique_ptr<WritableFile>> Reopen(const SegmentEnd& end,
                                               const std::vector<SegmentFile>& existing);
  // Leads one group: REQUIRES mu_ held via `l`, !leading_, queue_ not empty.
  void LeadOneGroup(std::unique_lock<std::mutex>& l);
  // True iff a thread about to lead should first wait for more records. REQUIRES mu_ held.
  bool ShouldGather() const;
  // The leader role serializes all I/O on the active segment: writes, fdatasyncs from groups,
  // Sync() and the flusher. No two syncs ever race, so a failed fdatasync cannot be masked by
  // a concurrent one that reports success. REQUIRES mu_ held.
  void AcquireLeadership(std::unique_lock<std::mutex>& l);
  void ReleaseLeadership();
  // Wakes the oldest queued record whose thread waits, to lead. REQUIRES mu_ held.
  void WakeOldestWaiter();
  // Leader only, mu_ not held: writes the group, syncs if asked.
  Status WriteGroup(const std::deque<std::shared_ptr<Waiter>>& group, bool sync);
  // Leader only: syncs the active segment and switches to a new one whose first seq is given.
  Status Rotate(uint64_t first_seq);
  // Syncs the active segment up to what is written now, as leader. REQUIRES mu_ held via `l`.
  Status SyncWritten(std::unique_lock<std::mutex>& l);
  // Fails every queued record with failed_. REQUIRES mu_ held.
  void FailQueued();
  void FlusherLoop();

  FileSystem* const fs_;
  const std::string dir_;
  const WriterOptions options_;

  mutable std::mutex mu_;
  std::deque<std::shared_ptr<Waiter>> queue_;  // in seq order
  bool leading_ = false;
  int leadership_waiters_ = 0;  // threads in AcquireLeadership (Sync, the flusher)
  size_t last_group_size_ = 1;  // records in the previous group (adaptive gathering)
  bool gathering_ = false;      // a thread waits for the group to fill before it leads
  double sync_ewma_us_ = 0;     // moving average of fdatasync time of groups
  std::condition_variable leader_cv_;
  bool closed_ = false;
  bool stop_flusher_ = false;
  Status failed_;
  uint64_t next_seq_;
  uint64_t written_seq_;  // every record <= this has been written
  uint64_t synced_seq_;   // every record <= this is durable
  WriterStats stats_;
  // Changed under mu_ by the leader only, so the leader may use them without mu_.
  std::unique_ptr<WritableFile> active_;
  uint64_t segment_number_ = 0;
  uint64_t offset_ = 0;  // end of the active segment's records (leader only)

  std::condition_variable flusher_cv_;
  std::thread flusher_;

  // Own atomics, no lock (util/histogram.h).
  AtomicHistogram fsync_ns_{AtomicHistogram::kLatencyLog2};
  AtomicHistogram fsync_records_{AtomicHistogram::kCountLog2};
};

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_WRITER_H_
