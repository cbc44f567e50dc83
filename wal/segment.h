// WAL segment files: names, the segment header, listing and creation.
// A segment is DIR/wal/<number>.wal with number zero-padded to at least 6 digits; numbers only
// grow and are never reused, so stale bytes of an older segment (whose records carry its number)
// are never mistaken for records of a newer one.
//
// Thread-safety: pure functions, plus file-system calls that are as thread-safe as the
// FileSystem.
#ifndef WALCACHE_WAL_SEGMENT_H_
#define WALCACHE_WAL_SEGMENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_system.h"
#include "walcache/result.h"

namespace walcache::wal {

struct SegmentHeader {
  uint32_t version = 0;
  uint64_t number = 0;
  uint64_t first_seq = 0;  // seq of the first record this segment holds (or will hold)
};

// kSegmentHeaderSize bytes for the current format version.
std::string EncodeSegmentHeader(uint64_t number, uint64_t first_seq);

// Parses and checks a segment header: Corruption for a short, damaged or foreign header,
// NotSupported for a format version this build does not read. `where` names the file.
Status DecodeSegmentHeader(std::string_view bytes, const std::string& where, SegmentHeader* out);

// "000042.wal", and its inverse (false for anything else).
std::string SegmentFileName(uint64_t number);
bool ParseSegmentFileName(std::string_view name, uint64_t* number);

struct SegmentFile {
  uint64_t number = 0;
  std::string path;
};

// The segments in `wal_dir`, by increasing number; other files are ignored. A missing directory
// holds no segments.
Result<std::vector<SegmentFile>> ListSegments(FileSystem* fs, const std::string& wal_dir);

// Creates segment `number` durably: a new file, `preallocate` bytes reserved (0: none), the
// header written and synced, then the directory synced, then the newest-segment witness
// (newest.h) replaced with a copy of the header. On error the file may exist, but its header is
// either absent or never acknowledged, or the witness still names an older segment; no record
// may be written to it, and the reader treats such a last segment as torn or empty.
Result<std::unique_ptr<WritableFile>> CreateSegment(FileSystem* fs, const std::string& wal_dir,
                                                    uint64_t number, uint64_t first_seq,
                                                    uint64_t preallocate);

// Finishes what CreateSegment began for the segment at `path`, whose header is durable: syncs
// the directory, then makes the witness name it unless it does already. A crash inside
// CreateSegment, after the header's sync and before the directory's, leaves a segment that the
// next open may continue (a clean end just past the header) but whose directory entry a power
// loss can still take back, records and all: call this before the first record goes into a
// segment that this process did not create. Corruption if the header is not valid.
Status FinishSegmentCreation(FileSystem* fs, const std::string& wal_dir, const std::string& path);

// Deletes, oldest first, the segments whose every record has seq <= `covered_seq` (known from
// the next segment's first seq) and whose number is below `keep_from` (the active segment), then
// syncs the directory. Stops at the first segment it may not delete, so what remains is always a
// contiguous suffix of the log. With `retain_bytes`, a segment is deleted only if the segments
// after it hold at least that many bytes (file sizes): the change feed's retention
// (docs/change-feed.md). Returns how many it deleted.
// REQUIRES: a durable checkpoint covers every record up to covered_seq (docs/design.md §4, trap 2).
Result<uint64_t> DeleteCoveredSegments(FileSystem* fs, const std::string& wal_dir,
                                       uint64_t covered_seq, uint64_t keep_from,
                                       uint64_t retain_bytes = 0);

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_SEGMENT_H_
