// OwnerOnlyFs: a rocksdb::FileSystemWrapper that makes every file RocksDB creates owner-only
// (0600) and every directory it creates 0700, as walcache's own files are (docs/storage-format.md,
// "File modes"). RocksDB's POSIX file system creates them 0644 and 0755 (less the umask), and 7.8
// has no option to say otherwise. Each creating call runs on the real file system, then chmods the
// path it created; a failed chmod fails the call (closing what it opened, and deleting a new
// file). RocksDB's files sit inside DIR/rocksdb, which this layer makes 0700 when it creates it
// (and NarrowExisting when a writable open finds it wider), so no other user can reach a file in
// the moment before its chmod. RocksDB's one switch, Env::SetAllowNonOwnerAccess, is set on the
// process's default Env (every RocksDB in the process) and does not cover directories.
//
// Thread-safety: thread-safe (stateless over a thread-safe base).
#ifndef WALCACHE_ENGINE_OWNER_ONLY_FS_H_
#define WALCACHE_ENGINE_OWNER_ONLY_FS_H_

#include <rocksdb/file_system.h>

#include <memory>
#include <string>

#include "walcache/status.h"

namespace walcache::engine {

class OwnerOnlyFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit OwnerOnlyFs(const std::shared_ptr<rocksdb::FileSystem>& base)
      : rocksdb::FileSystemWrapper(base) {}
  static const char* kClassName() { return "WalcacheOwnerOnlyFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewLogger(const std::string& f, const rocksdb::IOOptions& o,
                              std::shared_ptr<rocksdb::Logger>* r,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LockFile(const std::string& f, const rocksdb::IOOptions& o,
                             rocksdb::FileLock** l, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override;
};

// Narrows `dir` to 0700 and every regular file directly in it to 0600, where they allow more
// (never widening): for stores whose files were made before RocksDB's were owner-only. A file
// deleted during the walk, or a missing `dir`, is no error; otherwise IOError naming the path.
// Call it before RocksDB opens the store, whose threads delete files.
Status NarrowExisting(const std::string& dir);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_OWNER_ONLY_FS_H_
