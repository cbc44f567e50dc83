// Building blocks of the WAL reader: a read-ahead view of a segment file, probing one record, and
// the two scans that classify what follows the last valid record (all zeros? any valid record
// further on?). Every scan is linear in the bytes it covers and bounded, whatever the input.
//
// Thread-safety: a SegmentView is used by one thread at a time; the functions are pure apart
// from reading through it.
#ifndef WALCACHE_WAL_TAIL_SCAN_H_
#define WALCACHE_WAL_TAIL_SCAN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "util/file_system.h"
#include "wal/record.h"
#include "walcache/result.h"

namespace walcache::wal {

// Reads a file of known size through a read-ahead buffer.
class SegmentView {
 public:
  // REQUIRES: `file` outlives the view; `size` is the file's size.
  SegmentView(const ReadableFile* file, uint64_t size) : file_(file), size_(size) {}

  // A view of [offset, offset + n); valid until the next Fetch. The read-ahead stops at `limit`.
  // REQUIRES: offset + n <= min(size(), limit). An I/O error, or Corruption if the file shrank.
  Result<std::string_view> Fetch(uint64_t offset, size_t n, uint64_t limit = UINT64_MAX);

  uint64_t size() const { return size_; }
  const std::string& path() const { return file_->path(); }
  // The file's data from `offset` on (ReadableFile::DataRange): [offset, *data) reads as zeros.
  Status DataRange(uint64_t offset, uint64_t* data, uint64_t* hole) const {
    return file_->DataRange(offset, data, hole);
  }
  // Drops the read-ahead buffer: the next Fetch reads the file again, seeing what was written to
  // it since (a live writer's appends).
  void Forget() {
    buf_.clear();
    buf_offset_ = 0;
  }

  static constexpr size_t kReadAhead = 1 << 20;

 private:
  const ReadableFile* const file_;
  const uint64_t size_;
  std::string buf_;
  uint64_t buf_offset_ = 0;
};

enum class ProbeResult : uint8_t {
  kValid,    // a record of this segment with a correct checksum
  kStale,    // a record with a correct checksum that names another segment (left by an older one)
  kInvalid,  // anything else: zeros, a torn or damaged record, garbage
};

// Checks for a record at `offset` of segment `segment`. On kValid, `*h` is its header and
// `*payload` its payload (a view valid until the next use of `view`).
Result<ProbeResult> ProbeRecord(SegmentView* view, uint64_t offset, uint64_t segment,
                                RecordHeader* h, std::string_view* payload);

// The end of the last non-zero byte in [from, size): `from` when the range is all zeros. Reads
// only what the file system does not know to be zeros (holes, fallocated space never written:
// a preallocated segment's unused rest costs no read).
Result<uint64_t> NonZeroEnd(SegmentView* view, uint64_t from);

struct ResyncResult {
  bool found = false;      // a valid record of the segment with seq >= min_seq lies after `from`
  bool exhausted = false;  // the checksum budget ran out before the scan finished
  uint64_t offset = 0;     // where the record starts (if found)
  uint64_t seq = 0;        // its seq (if found)
};

// Looks for any valid record of `segment` with seq >= min_seq starting in (from, size). Candidate
// headers are filtered by their segment number, type, flags and length before any checksum, and
// at most `budget` payload bytes are checksummed in all, so the scan ends in time linear in the
// file size even on adversarial input.
Result<ResyncResult> FindValidRecordAfter(SegmentView* view, uint64_t from, uint64_t segment,
                                          uint64_t min_seq, uint64_t budget);

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_TAIL_SCAN_H_
