// OwnerOnlyFs (see owner_only_fs.h).
#include "engine/owner_only_fs.h"

#include <dirent.h>
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

// The same for a call that opened `*r`: on failure the handle is closed (and the caller never
// sees it).
template <typename Handle>
rocksdb::IOStatus NarrowOpened(rocksdb::IOStatus s, const std::string& path, Handle* r) {
  s = Narrow(std::move(s), path, kFileMode);
  if (!s.ok()) r->reset();
  return s;
}

}  // namespace

rocksdb::IOStatus OwnerOnlyFs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                               std::unique_ptr<rocksdb::FSWritableFile>* r,
                                               rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus created = target()->NewWritableFile(f, o, r, dbg);
  rocksdb::IOStatus s = NarrowOpened(created, f, r);
  // A new (or emptied) file that could not be narrowed goes: nothing in it yet, and left there
  // it would be readable by others.
  if (created.ok() && !s.ok()) (void)target()->DeleteFile(f, rocksdb::IOOptions(), dbg);
  return s;
}

rocksdb::IOStatus OwnerOnlyFs::ReopenWritableFile(const std::string& f,
                                                  const rocksdb::FileOptions& o,
                                                  std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                  rocksdb::IODebugContext* dbg) {
  return NarrowOpened(target()->ReopenWritableFile(f, o, r, dbg), f, r);
}

rocksdb::IOStatus OwnerOnlyFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                                 const rocksdb::FileOptions& o,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                 rocksdb::IODebugContext* dbg) {
  return NarrowOpened(target()->ReuseWritableFile(f, old, o, r, dbg), f, r);
}

rocksdb::IOStatus OwnerOnlyFs::NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                               std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                               rocksdb::IODebugContext* dbg) {
  return NarrowOpened(target()->NewRandomRWFile(f, o, r, dbg), f, r);
}

rocksdb::IOStatus OwnerOnlyFs::NewLogger(const std::string& f, const rocksdb::IOOptions& o,
                                         std::shared_ptr<rocksdb::Logger>* r,
                                         rocksdb::IODebugContext* dbg) {
  return NarrowOpened(target()->NewLogger(f, o, r, dbg), f, r);
}

Status NarrowExisting(const std::string& dir) {
  // A file that is gone by the time it is looked at needs no narrowing (whoever else may use
  // the directory — a tool, a RocksDB from before — can delete files meanwhile).
  auto narrow = [](const std::string& path, mode_t mode) -> Status {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return errno == ENOENT ? Status::OK() : Status::IOError("stat " + path, errno);
    }
    if ((st.st_mode & 07777 & ~mode) == 0) return Status::OK();  // already within `mode`
    if (::chmod(path.c_str(), st.st_mode & 07777 & mode) != 0 && errno != ENOENT) {
      return Status::IOError("chmod " + path, errno);
    }
    return Status::OK();
  };
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return errno == ENOENT ? Status::OK() : Status::IOError("opendir " + dir, errno);
  }
  Status s = narrow(dir, kDirMode);
  while (dirent* e = ::readdir(d)) {
    if (!s.ok()) break;
    const std::string path = dir + "/" + e->d_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) s = narrow(path, kFileMode);
  }
  ::closedir(d);
  return s;
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
