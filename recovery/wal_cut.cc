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
    (void)fs->DeleteFile(saved);  // a copy from an interrupted earlier run
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out,
                              fs->OpenWritable(saved, OpenMode::kCreateNew));
    std::string buf(1 << 20, '\0');
    for (uint64_t off = tail.valid_end; off < size;) {
      size_t got = 0;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
      WALCACHE_RETURN_IF_ERROR(in->Read(off, want, buf.data(), &got));
      if (got == 0) break;
      WALCACHE_RETURN_IF_ERROR(out->Write(off - tail.valid_end, std::string_view(buf.data(), got)));
      off += got;
      report.bytes_saved += got;
    }
    WALCACHE_RETURN_IF_ERROR(out->Sync());
    WALCACHE_RETURN_IF_ERROR(out->Close());
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

}  // namespace walcache::recovery
