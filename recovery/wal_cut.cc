// WAL cut (see wal_cut.h).
#include "recovery/wal_cut.h"

#include <algorithm>

#include "util/status_macros.h"
#include "wal/format.h"
#include "wal/newest.h"
#include "wal/tail_scan.h"

namespace walcache::recovery {

Result<uint64_t> KeptEnd(const ReadableFile* file, uint64_t file_size,
                         const wal::TailReport& tail) {
  // Segments are preallocated: what follows the last non-zero byte is zeros never written...
  wal::SegmentView view(file, file_size);
  WALCACHE_ASSIGN_OR_RETURN(uint64_t end, wal::NonZeroEnd(&view, tail.valid_end));
  // ...except that a valid record after the damage may end in zero bytes: keep every such record
  // whole.
  const uint64_t budget = 4 * file_size + (1 << 20);
  for (uint64_t from = tail.valid_end;;) {
    WALCACHE_ASSIGN_OR_RETURN(wal::ResyncResult r,
                              wal::FindValidRecordAfter(&view, from, tail.segment, 0, budget));
    if (!r.found) break;
    uint64_t off = r.offset;
    while (true) {
      wal::RecordHeader h;
      std::string_view payload;
      WALCACHE_ASSIGN_OR_RETURN(wal::ProbeResult p,
                                wal::ProbeRecord(&view, off, tail.segment, &h, &payload));
      if (p != wal::ProbeResult::kValid) break;
      off += wal::kRecordHeaderSize + h.length;
    }
    end = std::max(end, off);
    from = off;
  }
  return end;
}

// Copies [from, to) of `in` into a new file `out_path` at offset `out_at` (the file created
// preallocated to `reserve` bytes, after `prefix`), synced and closed. Returns the bytes copied.
Result<uint64_t> CopyRange(FileSystem* fs, const ReadableFile* in, uint64_t from, uint64_t to,
                           const std::string& out_path, std::string_view prefix, uint64_t reserve) {
  (void)fs->DeleteFile(out_path);  // a copy from an interrupted earlier run
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out,
                            fs->OpenWritable(out_path, OpenMode::kCreateNew));
  if (reserve > 0) WALCACHE_RETURN_IF_ERROR(out->Allocate(0, reserve));
  if (!prefix.empty()) WALCACHE_RETURN_IF_ERROR(out->Write(0, prefix));
  uint64_t copied = 0;
  std::string buf(1 << 20, '\0');
  for (uint64_t off = from; off < to;) {
    size_t got = 0;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), to - off));
    WALCACHE_RETURN_IF_ERROR(in->Read(off, want, buf.data(), &got));
    if (got == 0) break;
    WALCACHE_RETURN_IF_ERROR(
        out->Write(prefix.size() + off - from, std::string_view(buf.data(), got)));
    off += got;
    copied += got;
  }
  WALCACHE_RETURN_IF_ERROR(out->Sync());
  WALCACHE_RETURN_IF_ERROR(out->Close());
  return copied;
}

Result<CutReport> CutWal(FileSystem* fs, const std::string& wal_dir, const wal::TailReport& tail,
                         const std::vector<wal::SegmentSummary>& segments) {
  CutReport report;
  if (tail.state == wal::TailState::kClean) return report;
  if (tail.file.empty()) {  // no segment at all, but a witness naming one
    WALCACHE_RETURN_IF_ERROR(wal::RemoveNewest(fs, wal_dir));
    return report;
  }
  // (1) Save what follows the cut in its segment.
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> in, fs->OpenReadable(tail.file));
  WALCACHE_ASSIGN_OR_RETURN(uint64_t file_size, in->Size());
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, KeptEnd(in.get(), file_size, tail));
  if (size > tail.valid_end) {
    const std::string saved = tail.file + ".cut-" + std::to_string(tail.valid_end);
    WALCACHE_ASSIGN_OR_RETURN(report.bytes_saved,
                              CopyRange(fs, in.get(), tail.valid_end, size, saved, "", 0));
    report.saved.push_back(saved);
  }
  // (2) Move later segments aside: their records follow the damage, so replay cannot reach them.
  for (const wal::SegmentSummary& s : segments) {
    if (s.number <= tail.segment) continue;
    WALCACHE_RETURN_IF_ERROR(fs->RenameFile(s.path, s.path + ".cut"));
    report.saved.push_back(s.path + ".cut");
    report.bytes_moved += s.file_bytes;
    ++report.segments_moved;
  }
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  // (3) Cut.
  if (tail.valid_end == 0) {
    WALCACHE_RETURN_IF_ERROR(fs->DeleteFile(tail.file));
  } else {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                              fs->OpenWritable(tail.file, OpenMode::kOpenExisting));
    WALCACHE_RETURN_IF_ERROR(f->Truncate(tail.valid_end));
    WALCACHE_RETURN_IF_ERROR(f->Sync());
    WALCACHE_RETURN_IF_ERROR(f->Close());
  }
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  // (4) The witness names the segment that is now the newest (newest.h), or none. Done last:
  // until then it still names what the cut set aside (or is still damaged), so an interrupted cut
  // keeps refusing and a second run finishes it.
  std::string last_path;
  if (tail.valid_end > 0) {
    last_path = tail.file;
  } else {
    for (const wal::SegmentSummary& s : segments) {
      if (s.number < tail.segment) last_path = s.path;
    }
  }
  if (last_path.empty()) {
    WALCACHE_RETURN_IF_ERROR(wal::RemoveNewest(fs, wal_dir));
  } else {
    WALCACHE_ASSIGN_OR_RETURN(std::string header, wal::ReadSegmentHeaderBytes(fs, last_path));
    WALCACHE_RETURN_IF_ERROR(wal::WriteNewest(fs, wal_dir, header));
  }
  return report;
}

Result<FrontCutPoint> FindFrontCutPoint(FileSystem* fs, const wal::TailReport& tail) {
  FrontCutPoint at;
  if (tail.state != wal::TailState::kCorrupt || tail.file.empty() ||
      tail.valid_end < wal::kSegmentHeaderSize) {
    return at;
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> in, fs->OpenReadable(tail.file));
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, in->Size());
  wal::SegmentView view(in.get(), size);
  wal::SegmentHeader h;
  WALCACHE_ASSIGN_OR_RETURN(std::string_view header, view.Fetch(0, wal::kSegmentHeaderSize));
  if (!wal::DecodeSegmentHeader(header, tail.file, &h).ok() || h.number != tail.segment) return at;
  wal::RecordHeader rh;
  std::string_view payload;
  WALCACHE_ASSIGN_OR_RETURN(wal::ProbeResult p,
                            wal::ProbeRecord(&view, tail.valid_end, tail.segment, &rh, &payload));
  if (p == wal::ProbeResult::kValid) return at;  // a sequence break, not damage
  WALCACHE_ASSIGN_OR_RETURN(wal::ResyncResult r,
                            wal::FindValidRecordAfter(&view, tail.valid_end, tail.segment,
                                                      tail.last_seq + 1, 4 * size + (1 << 20)));
  if (!r.found) return at;
  at.found = true;
  at.offset = r.offset;
  at.seq = r.seq;
  return at;
}

Result<CutReport> CutWalFront(FileSystem* fs, const std::string& wal_dir,
                              const wal::TailReport& tail,
                              const std::vector<wal::SegmentSummary>& segments,
                              const FrontCutPoint& at) {
  CutReport report;
  if (!at.found || at.offset <= tail.valid_end) {
    return Status::InvalidArgument(tail.file + ": no front cut point after the damage");
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> in, fs->OpenReadable(tail.file));
  WALCACHE_ASSIGN_OR_RETURN(uint64_t file_size, in->Size());
  // (1) What the cut removes from this segment: its header, the records before the damage and
  // the damage.
  const std::string saved = tail.file + ".cut-before-" + std::to_string(at.offset);
  WALCACHE_ASSIGN_OR_RETURN(report.bytes_saved,
                            CopyRange(fs, in.get(), 0, at.offset, saved, "", 0));
  report.saved.push_back(saved);
  // (2) Earlier segments: every record in them precedes the damage.
  for (const wal::SegmentSummary& s : segments) {
    if (s.number >= tail.segment) continue;
    WALCACHE_RETURN_IF_ERROR(fs->RenameFile(s.path, s.path + ".cut"));
    report.saved.push_back(s.path + ".cut");
    report.bytes_moved += s.file_bytes;
    ++report.segments_moved;
  }
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  // (3) A witness naming this segment would not match its new header.
  Result<wal::NewestWitness> w = wal::ReadNewest(fs, wal_dir);
  const bool witnessed = w.ok() && w->header.number == tail.segment;
  if (witnessed) WALCACHE_RETURN_IF_ERROR(wal::RemoveNewest(fs, wal_dir));
  // (4) The segment again, starting at the record after the damage.
  wal::TailReport from = tail;
  from.valid_end = at.offset;
  WALCACHE_ASSIGN_OR_RETURN(uint64_t end, KeptEnd(in.get(), file_size, from));
  const std::string header = wal::EncodeSegmentHeader(tail.segment, at.seq);
  const std::string tmp = tail.file + ".tmp";
  WALCACHE_RETURN_IF_ERROR(
      CopyRange(fs, in.get(), at.offset, end, tmp, header, file_size).status());
  in.reset();
  WALCACHE_RETURN_IF_ERROR(fs->RenameFile(tmp, tail.file));
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  // (5)
  if (witnessed) WALCACHE_RETURN_IF_ERROR(wal::WriteNewest(fs, wal_dir, header));
  return report;
}

}  // namespace walcache::recovery
