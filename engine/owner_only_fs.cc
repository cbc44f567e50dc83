// OwnerOnlyFs (see owner_only_fs.h).
#include "engine/owner_only_fs.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace walcache::engine {
namespace {

constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;

// Narrows `path` to `mode` after `s`, the creating call, succeeded.
rocksdb::IOStatus Narrow(rocksdb::IOStatus s, const std::string& path, mode_t mode) {
  if (!s.ok() || ::chmod(path.c_str(), mode) == 0) return s;
  return rocksdb::IOStatus::IOError("chmod " + path, std::strerror(errno));
}

}  // namespace

rocksdb::IOStatus OwnerOnlyFs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                               std::unique_ptr<rocksdb::FSWritableFile>* r,
                                               rocksdb::IODebugContext* dbg) {
  return Narrow(target()->NewWritableFile(f, o, r, dbg), f, kFileMode);
}

rocksdb::IOStatus OwnerOnlyFs::ReopenWritableFile(const std::string& f,
                                                  const rocksdb::FileOptions& o,
                                                  std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                  rocksdb::IODebugContext* dbg) {
  return Narrow(target()->ReopenWritableFile(f, o, r, dbg), f, kFileMode);
}

rocksdb::IOStatus OwnerOnlyFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                                 const rocksdb::FileOptions& o,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                 rocksdb::IODebugContext* dbg) {
  return Narrow(target()->ReuseWritableFile(f, old, o, r, dbg), f, kFileMode);
}

rocksdb::IOStatus OwnerOnlyFs::NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                               std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                               rocksdb::IODebugContext* dbg) {
  return Narrow(target()->NewRandomRWFile(f, o, r, dbg), f, kFileMode);
}

rocksdb::IOStatus OwnerOnlyFs::NewLogger(const std::string& f, const rocksdb::IOOptions& o,
                                         std::shared_ptr<rocksdb::Logger>* r,
                                         rocksdb::IODebugContext* dbg) {
  return Narrow(target()->NewLogger(f, o, r, dbg), f, kFileMode);
}

rocksdb::IOStatus OwnerOnlyFs::LockFile(const std::string& f, const rocksdb::IOOptions& o,
                                        rocksdb::FileLock** l, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->LockFile(f, o, l, dbg);
  if (!s.ok()) return s;
  s = Narrow(std::move(s), f, kFileMode);
  if (!s.ok()) {
    (void)target()->UnlockFile(*l, o, dbg);
    *l = nullptr;
  }
  return s;
}

rocksdb::IOStatus OwnerOnlyFs::CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                                         rocksdb::IODebugContext* dbg) {
  return Narrow(target()->CreateDir(d, o, dbg), d, kDirMode);
}

// Only a directory this call creates is narrowed: an existing one keeps the mode its owner gave
// it (RocksDB calls this on every open, read-only ones included).
rocksdb::IOStatus OwnerOnlyFs::CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                                  rocksdb::IODebugContext* dbg) {
  bool existed = false;
  if (target()->IsDirectory(d, o, &existed, dbg).ok() && existed) {
    return target()->CreateDirIfMissing(d, o, dbg);
  }
  return Narrow(target()->CreateDirIfMissing(d, o, dbg), d, kDirMode);
}

}  // namespace walcache::engine
