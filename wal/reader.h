// Reader: iterates the records of a WAL directory in sequence order and accounts exactly for
// what follows the last valid one.
//
// Where valid data ends, the reader classifies the rest (docs/design.md §3):
//   kClean   nothing follows but zeros (preallocation) or records of an older segment (stale);
//   kTorn    in the last segment only: damaged bytes with no valid record after them, e.g. a
//            write cut short by a crash. tail().dropped_bytes says how many non-zero bytes a
//            repair would drop. Reported as the end of data, not an error;
//   kCorrupt damage followed by a valid record (judged on bytes read again after that valid
//            record was seen, so a live writer's append in flight is never taken for damage),
//            damage in a segment that has a successor (a segment is synced before its successor is
//            created, so its end cannot be torn), a bad segment header other than the last one's,
//            or a break in the sequence. Next() returns Corruption naming the file and offset, and
//            so does every later call.
// A segment written by a newer format version is NotSupported.
//
// Reading a WAL that a live process appends to (the admin tools do): where valid data seems to end
// in the last segment, the reader reads those bytes again, bypassing its read-ahead. If they now
// form a valid record, an append was under way when the reader got there: reading ends cleanly
// at that point with tail().in_progress set, and nothing from there on is judged. Appends within a
// segment are sequential, so nothing at or after that point was durable when the reading started,
// while every record before it was read whole. On a directory nothing writes to, the second
// read sees the same bytes and changes nothing.
//
// Every length read from a file is checked against the bytes the file holds and against
// kMaxRecordPayload before anything is allocated; reading ends in time linear in the bytes on
// disk for any input (the search for valid records after damage has a fixed checksum budget, and
// a search that exhausts it is reported as corruption rather than guessed to be a torn tail).
//
// Thread-safety: not thread-safe; one thread uses a Reader at a time.
#ifndef WALCACHE_WAL_READER_H_
#define WALCACHE_WAL_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/file_system.h"
#include "wal/newest.h"
#include "wal/segment.h"
#include "wal/tail_scan.h"
#include "walcache/result.h"

namespace walcache::wal {

struct WalRecord {
  uint64_t seq = 0;
  uint64_t segment = 0;
  std::string file;           // path of the segment file
  uint64_t offset = 0;        // where the record's header starts in that file
  uint32_t stored_bytes = 0;  // payload bytes as stored (compressed or not)
  bool compressed = false;
  std::string batch;  // the decoded (decompressed) batch bytes
};

enum class TailState : uint8_t { kClean, kTorn, kCorrupt };

// "clean", "torn", "corrupt".
std::string_view TailStateName(TailState s);

struct TailReport {
  TailState state = TailState::kClean;
  std::string file;  // segment where valid data ends ("" if there are no segments)
  uint64_t segment = 0;
  uint64_t valid_end = 0;      // offset just past the last valid record (or header) in `file`
  uint64_t dropped_bytes = 0;  // kTorn: non-zero bytes after valid_end that repair removes
  uint64_t stale_bytes = 0;    // kClean: bytes of older segments' records after valid_end
  uint64_t last_seq = 0;       // seq of the last valid record, or first_seq - 1 of an empty WAL
  // kClean only: a live writer was appending at valid_end while the reader looked (the bytes
  // there changed between two reads); nothing from valid_end on was judged.
  bool in_progress = false;
  std::string detail;  // human-readable account; after an error, its message
};

struct SegmentSummary {
  uint64_t number = 0;
  std::string path;
  uint64_t first_seq = 0;  // from the header (0 if the header is unreadable)
  uint64_t file_bytes = 0;
  uint64_t records = 0;  // valid records read from this segment
  bool skipped = false;  // not read: every record in it precedes from_seq
};

// Where a record starts in the WAL: its segment's number, the offset of its header, its seq.
struct ReadPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint64_t seq = 0;
};

struct ReaderOptions {
  // Records with a smaller seq are verified but not returned (0 and 1: return all). Whole
  // segments that end before it are skipped. If the WAL's first record comes after from_seq,
  // records are missing: Corruption.
  uint64_t from_seq = 0;
  // Start there instead of at the start of its segment (the change feed resuming where its last
  // read ended, wal/changes.h): the segments before it are skipped, and in it reading starts at
  // `offset`, expecting the record `seq` there (or the segment's valid end). Ignored unless that
  // segment is listed, its header reads, and first seq <= seq <= from_seq. Only for a position
  // this process read from a segment nothing rewrote since (a repair's front cut rewrites one,
  // offline): a wrong offset reads as damage (Corruption), never as other records.
  std::optional<ReadPosition> start;
  // Checksum budget of the search for valid records after damage, in multiples of the bytes
  // that remain in the segment (plus 1 MiB).
  uint64_t resync_budget_factor = 4;
};

// Corruption naming `first`'s file unless a WAL whose first segment read is `first` (first_seq
// from its header; 0 if unreadable, which passes) holds every record from `from_seq` on, and
// naming the segment that held the records before it. A Reader checks it for
// ReaderOptions::from_seq; a tool that reads every record checks it afterwards.
Status CheckWalHoldsFrom(const SegmentSummary& first, uint64_t from_seq);

class Reader {
 public:
  // Lists the segments of `wal_dir` (a missing directory is an empty WAL).
  // REQUIRES: `fs` outlives the reader; nothing writes to the WAL meanwhile.
  static Result<std::unique_ptr<Reader>> Open(FileSystem* fs, std::string wal_dir,
                                              ReaderOptions options = {});

  // Fills *rec and returns true, or returns false at the end of valid data (tail() then says
  // how it ended), or returns the error that stops the reading (Corruption, NotSupported, an I/O
  // error); after an error every call returns it again.
  Result<bool> Next(WalRecord* rec);

  // Meaningful once Next has returned false or an error.
  const TailReport& tail() const { return tail_; }
  const std::vector<SegmentSummary>& segments() const { return summaries_; }

 private:
  Reader(FileSystem* fs, std::string wal_dir, ReaderOptions options)
      : fs_(fs), dir_(std::move(wal_dir)), options_(options) {}

  Status Init();
  // Opens segment idx_ and checks its header. Sets *done when reading ends there.
  Status OpenSegment(bool* done);
  // Valid data of the open segment ends at offset_: classify the rest.
  Status ClassifyEnd(bool* done);
  // In the last segment: true iff the bytes at offset_, read again past the read-ahead, now form
  // a valid record, i.e. a live writer appended there while we read. Then ends reading there.
  Result<bool> EndedInProgress();
  Status Fail(Status s);
  bool IsLast() const { return idx_ + 1 == summaries_.size(); }
  // Where reading ends: OK unless the newest-segment witness is damaged or names a segment that
  // is not there (newest.h).
  Status CheckWitnessAtEnd() const;

  FileSystem* const fs_;
  const std::string dir_;
  const ReaderOptions options_;

  std::optional<NewestWitness> witness_;  // DIR/wal/NEWEST, if present and valid
  Status witness_error_;                  // why it is not valid, if present
  std::vector<SegmentSummary> summaries_;
  size_t idx_ = 0;
  std::optional<size_t> start_idx_;  // the segment options_.start names, when it is listed
  std::unique_ptr<ReadableFile> file_;
  std::optional<SegmentView> view_;
  uint64_t offset_ = 0;
  uint64_t next_seq_ = 0;  // seq the next record must carry (0 until known)
  bool finished_ = false;
  Status error_;
  TailReport tail_;
};

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_READER_H_
