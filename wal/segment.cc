// Segment files (see segment.h). Thread-safe.
#include "wal/segment.h"

#include <algorithm>
#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
#include "wal/format.h"
#include "wal/newest.h"

namespace walcache::wal {

std::string EncodeSegmentHeader(uint64_t number, uint64_t first_seq) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  PutFixed32(&out, kFormatVersion);
  PutFixed32(&out, 0);
  PutFixed64(&out, number);
  PutFixed64(&out, first_seq);
  PutFixed32(&out, crc32c::Value(out));
  return out;
}

Status DecodeSegmentHeader(std::string_view bytes, const std::string& where, SegmentHeader* out) {
  if (bytes.size() < kSegmentHeaderSize) {
    return Status::Corruption(where + ": segment header truncated (" +
                              std::to_string(bytes.size()) + " of " +
                              std::to_string(kSegmentHeaderSize) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return Status::Corruption(where + ": not a walcache WAL segment (bad magic)");
  }
  const uint32_t stored = DecodeFixed32(bytes.data() + kSegmentHeaderSize - 4);
  if (stored != crc32c::Value(bytes.data(), kSegmentHeaderSize - 4)) {
    return Status::Corruption(where + ": segment header checksum mismatch");
  }
  std::string_view in = bytes.substr(sizeof(kSegmentMagic));
  uint32_t reserved = 0;
  (void)GetFixed32(&in, &out->version);
  (void)GetFixed32(&in, &reserved);
  (void)GetFixed64(&in, &out->number);
  (void)GetFixed64(&in, &out->first_seq);
  if (out->version != kFormatVersion) {
    return Status::NotSupported(where + ": WAL format version " + std::to_string(out->version) +
                                "; this build reads version " + std::to_string(kFormatVersion));
  }
  // Version 1 writes 0; a checksummed non-zero value is no version-1 header.
  if (reserved != 0) {
    return Status::Corruption(where + ": segment header's reserved field is " +
                              std::to_string(reserved) + ", not 0");
  }
  if (out->first_seq == 0) return Status::Corruption(where + ": segment header has first seq 0");
  return Status::OK();
}

std::string SegmentFileName(uint64_t number) {
  std::string digits = std::to_string(number);
  if (digits.size() < 6) digits.insert(0, 6 - digits.size(), '0');
  return digits + ".wal";
}

bool ParseSegmentFileName(std::string_view name, uint64_t* number) {
  constexpr std::string_view kSuffix = ".wal";
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return false;
  const std::string_view digits = name.substr(0, name.size() - kSuffix.size());
  if (digits.size() > 20) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *number = v;
  return true;
}

Result<std::vector<SegmentFile>> ListSegments(FileSystem* fs, const std::string& wal_dir) {
  Status exists = fs->Exists(wal_dir);
  if (exists.IsNotFound()) return std::vector<SegmentFile>{};
  WALCACHE_RETURN_IF_ERROR(exists);
  WALCACHE_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(wal_dir));
  std::vector<SegmentFile> segments;
  for (const std::string& name : names) {
    uint64_t number = 0;
    if (ParseSegmentFileName(name, &number)) {
      segments.push_back(SegmentFile{number, JoinPath(wal_dir, name)});
    }
  }
  std::sort(segments.begin(), segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.number < b.number; });
  for (size_t i = 1; i < segments.size(); ++i) {
    if (segments[i].number == segments[i - 1].number) {
      return Status::Corruption(wal_dir + ": two files name segment " +
                                std::to_string(segments[i].number) + ": " + segments[i - 1].path +
                                " and " + segments[i].path);
    }
  }
  return segments;
}

Result<std::unique_ptr<WritableFile>> CreateSegment(FileSystem* fs, const std::string& wal_dir,
                                                    uint64_t number, uint64_t first_seq,
                                                    uint64_t preallocate) {
  const std::string path = JoinPath(wal_dir, SegmentFileName(number));
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                            fs->OpenWritable(path, OpenMode::kCreateNew));
  if (preallocate > 0) WALCACHE_RETURN_IF_ERROR(file->Allocate(0, preallocate));
  const std::string header = EncodeSegmentHeader(number, first_seq);
  WALCACHE_RETURN_IF_ERROR(file->Write(0, header));
  WALCACHE_RETURN_IF_ERROR(file->Sync());
  // A crash here leaves a segment with a durable header and a name that is not; an open
  // continuing it must finish this first (FinishSegmentCreation).
  WALCACHE_KILL_POINT(kWalSegmentHeaderSynced);
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  // Only now that the segment is durable may the witness name it (newest.h). A crash here leaves
  // a newest segment that the witness does not name, which holds no record.
  WALCACHE_KILL_POINT(kWalSegmentCreated);
  WALCACHE_RETURN_IF_ERROR(WriteNewest(fs, wal_dir, header));
  return file;
}

Status FinishSegmentCreation(FileSystem* fs, const std::string& wal_dir, const std::string& path) {
  WALCACHE_ASSIGN_OR_RETURN(const std::string header, ReadSegmentHeaderBytes(fs, path));
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  Result<NewestWitness> witness = ReadNewest(fs, wal_dir);
  if (witness.ok() && witness->bytes == header) return Status::OK();
  if (!witness.ok() && !witness.status().IsNotFound()) return witness.status();
  return WriteNewest(fs, wal_dir, header);
}

Result<uint64_t> DeleteCoveredSegments(FileSystem* fs, const std::string& wal_dir,
                                       uint64_t covered_seq, uint64_t keep_from,
                                       uint64_t retain_bytes) {
  WALCACHE_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(fs, wal_dir));
  // later_bytes[i]: the bytes of the segments after segment i (only needed for retention).
  std::vector<uint64_t> later_bytes(segments.size(), 0);
  if (retain_bytes > 0) {
    for (size_t i = segments.size(); i-- > 1;) {
      WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> f,
                                fs->OpenReadable(segments[i].path));
      WALCACHE_ASSIGN_OR_RETURN(uint64_t size, f->Size());
      later_bytes[i - 1] = later_bytes[i] + size;
    }
  }
  uint64_t deleted = 0;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i].number >= keep_from) break;
    if (later_bytes[i] < retain_bytes) break;
    // The successor's first seq bounds this segment's records: all are below it.
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> next,
                              fs->OpenReadable(segments[i + 1].path));
    char buf[kSegmentHeaderSize];
    size_t got = 0;
    WALCACHE_RETURN_IF_ERROR(next->Read(0, sizeof(buf), buf, &got));
    SegmentHeader h;
    if (!DecodeSegmentHeader(std::string_view(buf, got), segments[i + 1].path, &h).ok()) break;
    if (h.first_seq > covered_seq + 1) break;
    WALCACHE_RETURN_IF_ERROR(fs->DeleteFile(segments[i].path));
    ++deleted;
    WALCACHE_KILL_POINT(kWalSegmentDeleted);
  }
  if (deleted > 0) WALCACHE_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  return deleted;
}

}  // namespace walcache::wal
