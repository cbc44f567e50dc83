// Changes (changes.h), and the public EncodeChangeTxn / DecodeChangeTxn (change_feed.h).
#include "wal/changes.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include "util/coding.h"
#include "util/status_macros.h"
#include "wal/format.h"
#include "wal/segment.h"

namespace walcache {
namespace wal {
namespace {

// The first seq of the segment at `path` per its header; nullopt if the header is unreadable
// (the reader judges it), NotFound if the file is gone.
Result<std::optional<uint64_t>> FirstSeq(FileSystem* fs, const std::string& path) {
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> f, fs->OpenReadable(path));
  char buf[kSegmentHeaderSize];
  size_t got = 0;
  WALCACHE_RETURN_IF_ERROR(f->Read(0, sizeof(buf), buf, &got));
  SegmentHeader h;
  if (!DecodeSegmentHeader(std::string_view(buf, got), path, &h).ok()) {
    return std::optional<uint64_t>();
  }
  return std::optional<uint64_t>(h.first_seq);
}

}  // namespace

ChangeTxn ToChangeTxn(uint64_t seq, const Batch& batch) {
  ChangeTxn txn;
  txn.update_id = seq;
  txn.changes.reserve(batch.size());
  for (const Op& op : batch.ops()) {
    txn.changes.push_back(
        Change{static_cast<Change::Kind>(op.type), op.key, op.value, op.expires_at, op.related});
  }
  return txn;
}

namespace {

// A file listed a moment ago is gone: a checkpoint deleted a segment meanwhile.
bool Vanished(const Status& s) {
  return s.IsNotFound() || (s.IsIOError() && s.sys_errno() == ENOENT);
}

// One attempt of ReadChanges, on one listing of the segments.
Result<ChangesRead> ReadOnce(FileSystem* fs, const std::string& wal_dir, uint64_t from,
                             uint64_t upto, size_t max, const std::optional<ReadPosition>& start) {
  ChangesRead out;
  ChangeBatch& b = out.batch;
  b.next_from = from;
  ReaderOptions ro;
  ro.from_seq = from + 1;
  if (start && start->seq == from + 1) ro.start = start;
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, Reader::Open(fs, wal_dir, ro));
  const std::vector<SegmentSummary>& segments = reader->segments();
  // The first segment the reader will read: the earlier ones hold only records up to `from`.
  auto first = std::find_if(segments.begin(), segments.end(),
                            [](const SegmentSummary& s) { return !s.skipped; });
  if (first == segments.end()) {
    b.gap = true;
    b.oldest_from = upto;
    return out;
  }
  WALCACHE_ASSIGN_OR_RETURN(std::optional<uint64_t> first_seq, FirstSeq(fs, first->path));
  if (first_seq.has_value() && *first_seq > from + 1) {
    b.gap = true;
    b.oldest_from = *first_seq - 1;
    return out;
  }
  WalRecord rec;
  while (b.txns.size() < max && b.next_from < upto) {
    Result<bool> more = reader->Next(&rec);
    // What was read is whole; a segment deleted after the listing ends this batch (the next
    // read lists again and sees where the log now starts).
    if (!more.ok() && Vanished(more.status()) && !b.txns.empty()) break;
    if (!more.ok()) return more.status();
    if (!*more) {
      out.reached_end = true;
      out.tail = reader->tail();
      if (out.tail.last_seq < from) {  // `from` is beyond the log: its history is not this one
        b.gap = true;
        b.oldest_from = out.tail.last_seq;
      }
      break;
    }
    if (rec.seq != b.next_from + 1) {
      return Status::Corruption(rec.file + ": record at offset " + std::to_string(rec.offset) +
                                " has seq " + std::to_string(rec.seq) + ", expected " +
                                std::to_string(b.next_from + 1));
    }
    Result<Batch> batch = Batch::Decode(rec.batch);
    if (!batch.ok()) {
      return Status::Corruption(rec.file + ": record seq " + std::to_string(rec.seq) +
                                " at offset " + std::to_string(rec.offset) + ": " +
                                batch.status().message());
    }
    b.txns.push_back(ToChangeTxn(rec.seq, *batch));
    b.next_from = rec.seq;
    out.next =
        ReadPosition{rec.segment, rec.offset + kRecordHeaderSize + rec.stored_bytes, rec.seq + 1};
  }
  return out;
}

}  // namespace

Result<ChangesRead> ReadChanges(FileSystem* fs, const std::string& wal_dir, uint64_t from,
                                uint64_t upto, size_t max, std::optional<ReadPosition> start) {
  if (from >= upto || max == 0) {
    ChangesRead out;
    out.batch.next_from = from;
    return out;
  }
  // Segments holding only records up to `from` may be deleted under the reader at any time;
  // each attempt lists again, and a listing without the deleted ones reads on.
  constexpr int kAttempts = 8;
  for (int attempt = 1;; ++attempt) {
    Result<ChangesRead> r = ReadOnce(fs, wal_dir, from, upto, max, start);
    if (r.ok() || !Vanished(r.status()) || attempt == kAttempts) return r;
  }
}

}  // namespace wal

std::string EncodeChangeTxn(const ChangeTxn& txn) {
  wal::Batch batch;
  for (const Change& c : txn.changes) {
    batch.Add(wal::Op{static_cast<wal::OpType>(c.kind), c.key, c.value, c.expires_at, c.related});
  }
  std::string out;
  PutVarint64(&out, txn.update_id);
  batch.EncodeTo(&out);
  return out;
}

Result<ChangeTxn> DecodeChangeTxn(std::string_view bytes) {
  uint64_t update_id = 0;
  if (!GetVarint64(&bytes, &update_id)) {
    return Status::Corruption("change: truncated update_id");
  }
  WALCACHE_ASSIGN_OR_RETURN(wal::Batch batch, wal::Batch::Decode(bytes));
  return wal::ToChangeTxn(update_id, batch);
}

}  // namespace walcache
