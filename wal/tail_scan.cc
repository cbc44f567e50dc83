// Segment reading and tail classification scans (see tail_scan.h).
#include "wal/tail_scan.h"

#include <algorithm>

#include "util/coding.h"
#include "util/crc32c.h"
#include "util/status_macros.h"
#include "wal/format.h"

namespace walcache::wal {

Result<std::string_view> SegmentView::Fetch(uint64_t offset, size_t n, uint64_t limit) {
  if (offset >= buf_offset_ && offset + n <= buf_offset_ + buf_.size()) {
    return std::string_view(buf_).substr(offset - buf_offset_, n);
  }
  const size_t want = static_cast<size_t>(
      std::min<uint64_t>(std::max<uint64_t>(n, kReadAhead), std::min(size_, limit) - offset));
  buf_.resize(want);
  buf_offset_ = offset;
  size_t got = 0;
  Status s = file_->Read(offset, want, buf_.data(), &got);
  if (!s.ok()) {
    buf_.clear();
    return s;
  }
  buf_.resize(got);
  if (got < n) {
    return Status::Corruption(path() + ": file shrank while being read (wanted " +
                              std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                              ", got " + std::to_string(got) + ")");
  }
  return std::string_view(buf_).substr(0, n);
}

Result<ProbeResult> ProbeRecord(SegmentView* view, uint64_t offset, uint64_t segment,
                                RecordHeader* h, std::string_view* payload) {
  if (offset > view->size() || view->size() - offset < kRecordHeaderSize) {
    return ProbeResult::kInvalid;
  }
  WALCACHE_ASSIGN_OR_RETURN(std::string_view head, view->Fetch(offset, kRecordHeaderSize));
  char header[kRecordHeaderSize];
  std::copy(head.begin(), head.end(), header);
  *h = DecodeRecordHeader(header);
  if (!PlausibleHeader(*h) || h->length > view->size() - offset - kRecordHeaderSize) {
    return ProbeResult::kInvalid;
  }
  WALCACHE_ASSIGN_OR_RETURN(std::string_view whole,
                            view->Fetch(offset, kRecordHeaderSize + h->length));
  const std::string_view body = whole.substr(kRecordHeaderSize);
  if (RecordChecksum(crc32c::Value(body), header) != h->crc) return ProbeResult::kInvalid;
  *payload = body;
  return h->segment == segment ? ProbeResult::kValid : ProbeResult::kStale;
}

Result<uint64_t> NonZeroEnd(SegmentView* view, uint64_t from) {
  uint64_t end = from;
  uint64_t pos = from;
  while (pos < view->size()) {
    uint64_t data = 0, hole = 0;
    WALCACHE_RETURN_IF_ERROR(view->DataRange(pos, &data, &hole));
    if (data >= view->size()) break;  // zeros to the end
    pos = std::max(pos, data);
    const uint64_t stop = std::min(view->size(), std::max(hole, pos + 1));
    while (pos < stop) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(SegmentView::kReadAhead, stop - pos));
      // Not past the hole: reading fallocated space makes its zero pages cached, and the file
      // system then counts them as data.
      WALCACHE_ASSIGN_OR_RETURN(std::string_view chunk, view->Fetch(pos, n, stop));
      const size_t last = chunk.find_last_not_of('\0');
      if (last != std::string_view::npos) end = pos + last + 1;
      pos += n;
    }
  }
  return end;
}

Result<ResyncResult> FindValidRecordAfter(SegmentView* view, uint64_t from, uint64_t segment,
                                          uint64_t min_seq, uint64_t budget) {
  ResyncResult result;
  if (view->size() < kRecordHeaderSize) return result;
  const uint64_t last_start = view->size() - kRecordHeaderSize;
  uint64_t pos = from + 1;
  while (pos <= last_start) {
    // Candidate headers starting in [pos, chunk_end) are screened from one fetched chunk.
    const uint64_t chunk_end = std::min<uint64_t>(pos + SegmentView::kReadAhead, last_start + 1);
    std::string chunk;
    {
      WALCACHE_ASSIGN_OR_RETURN(std::string_view v,
                                view->Fetch(pos, chunk_end - pos + kRecordHeaderSize - 1));
      chunk.assign(v);
    }
    for (uint64_t q = pos; q < chunk_end; ++q) {
      const char* p = chunk.data() + (q - pos);
      if (DecodeFixed64(p + kRecordSegmentOffset) != segment) continue;
      const RecordHeader h = DecodeRecordHeader(p);
      if (!PlausibleHeader(h) || h.seq < min_seq ||
          h.length > view->size() - q - kRecordHeaderSize) {
        continue;
      }
      if (h.length > budget) {
        result.exhausted = true;
        return result;
      }
      budget -= h.length;
      RecordHeader checked;
      std::string_view payload;
      WALCACHE_ASSIGN_OR_RETURN(ProbeResult r, ProbeRecord(view, q, segment, &checked, &payload));
      if (r == ProbeResult::kValid) {
        result.found = true;
        result.offset = q;
        result.seq = checked.seq;
        return result;
      }
    }
    pos = chunk_end;
  }
  return result;
}

}  // namespace walcache::wal
