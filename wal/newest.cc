// The newest-segment witness (see newest.h).
#include "wal/newest.h"

#include <cerrno>

#include "util/replace_file.h"
#include "util/status_macros.h"
#include "wal/format.h"

namespace walcache::wal {

Result<NewestWitness> ReadNewest(FileSystem* fs, const std::string& wal_dir) {
  NewestWitness w;
  w.path = JoinPath(wal_dir, kNewestFileName);
  Result<std::unique_ptr<ReadableFile>> opened = fs->OpenReadable(w.path);
  if (!opened.ok()) {
    if (opened.status().sys_errno() == ENOENT) return Status::NotFound(w.path);
    return opened.status();
  }
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, (*opened)->Size());
  if (size != kSegmentHeaderSize) {
    return Status::Corruption(w.path + ": " + std::to_string(size) + " bytes; the newest-segment " +
                              "witness is one segment header of " +
                              std::to_string(kSegmentHeaderSize) + " bytes");
  }
  w.bytes.resize(kSegmentHeaderSize);
  size_t got = 0;
  WALCACHE_RETURN_IF_ERROR((*opened)->Read(0, w.bytes.size(), w.bytes.data(), &got));
  w.bytes.resize(got);
  WALCACHE_RETURN_IF_ERROR(DecodeSegmentHeader(w.bytes, w.path, &w.header));
  return w;
}

Status WriteNewest(FileSystem* fs, const std::string& wal_dir, std::string_view header_bytes) {
  return ReplaceFile(fs, JoinPath(wal_dir, kNewestFileName), header_bytes);
}

Status RemoveNewest(FileSystem* fs, const std::string& wal_dir) {
  const std::string path = JoinPath(wal_dir, kNewestFileName);
  const Status exists = fs->Exists(path);
  if (exists.IsNotFound()) return Status::OK();
  WALCACHE_RETURN_IF_ERROR(exists);
  WALCACHE_RETURN_IF_ERROR(fs->DeleteFile(path));
  return fs->SyncDir(wal_dir);
}

Result<std::string> ReadSegmentHeaderBytes(FileSystem* fs, const std::string& path,
                                           SegmentHeader* decoded) {
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> f, fs->OpenReadable(path));
  std::string bytes(kSegmentHeaderSize, '\0');
  size_t got = 0;
  WALCACHE_RETURN_IF_ERROR(f->Read(0, bytes.size(), bytes.data(), &got));
  bytes.resize(got);
  SegmentHeader h;
  WALCACHE_RETURN_IF_ERROR(DecodeSegmentHeader(bytes, path, &h));
  if (decoded != nullptr) *decoded = h;
  return bytes;
}

}  // namespace walcache::wal
