// FileSystem: the seam between walcache and the OS. Every byte walcache writes, syncs or reads,
// and every file it creates, deletes or renames, goes through this interface, so that a fault
// layer (FaultFileSystem) can sit between walcache and the real files: injected I/O errors now,
// dropped unsynced data for the crash checker.
//
// Paths are plain strings; errors are Status values whose message names the path and whose
// sys_errno() carries the OS error.
//
// Thread-safety: FileSystem implementations are thread-safe. A WritableFile may have Sync()
// called concurrently with Write() (the WAL flusher syncs while the group-commit leader
// writes); other calls on one file object must not overlap. ReadableFile is thread-safe.
#ifndef WALCACHE_UTIL_FILE_SYSTEM_H_
#define WALCACHE_UTIL_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "walcache/result.h"
#include "walcache/status.h"

namespace walcache {

// A file opened for positioned writes (pwrite), the WAL segment's view of a file.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Writes all of `data` at `offset`. A short write is retried until done or an error.
  virtual Status Write(uint64_t offset, std::string_view data) = 0;
  // Makes all data written so far durable (fdatasync). Only an OK return promises anything: after
  // a failed Sync the state of unsynced bytes is unknown and must not be assumed either way.
  virtual Status Sync() = 0;
  // Reserves [offset, offset + len) on the device and extends the file to cover it; the reserved
  // bytes read as zeros. Lets later appends sync without growing the file.
  virtual Status Allocate(uint64_t offset, uint64_t len) = 0;
  // Sets the file size to `size` (dropping or zero-extending).
  virtual Status Truncate(uint64_t size) = 0;
  // Releases the descriptor. Does not sync. Idempotent.
  virtual Status Close() = 0;

  virtual const std::string& path() const = 0;
};

// A file opened for positioned reads (pread).
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;

  // Reads up to `n` bytes at `offset` into `scratch`; `*got` is fewer than `n` only at the end
  // of the file.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const = 0;
  // The current size of the file.
  virtual Result<uint64_t> Size() const = 0;
  // Where the file's data lies from `offset` on, as lseek's SEEK_DATA and SEEK_HOLE say: every
  // byte in [offset, *data) reads as zeros (a hole, or space fallocate reserved and nothing wrote),
  // and [*data, *hole) may hold anything; *data == UINT64_MAX when nothing but zeros follows.
  // The default knows no holes: *data = offset, *hole = UINT64_MAX (everything may be data).
  virtual Status DataRange(uint64_t offset, uint64_t* data, uint64_t* hole) const {
    *data = offset;
    *hole = UINT64_MAX;
    return Status::OK();
  }

  virtual const std::string& path() const = 0;
};

// An exclusive lock on a file, held until the object is destroyed (or its process dies).
class FileLock {
 public:
  virtual ~FileLock() = default;
  virtual const std::string& path() const = 0;
};

enum class OpenMode : uint8_t {
  kCreateNew,     // create; fail if the file exists
  kOpenExisting,  // open; fail if the file does not exist
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system. Never null; never destroyed. A cache runs over it unless
  // opened over another (engine/seams.h: tests and the crash checker wrap it, per cache).
  static FileSystem* Posix();

  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                             OpenMode mode) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) = 0;

  // Creates `path` (one level) unless it exists as a directory.
  virtual Status CreateDir(const std::string& path) = 0;
  // Makes the directory's entries durable (fsync on the directory): needed after a file in it
  // was created, renamed or deleted, or those changes may vanish on power loss.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Status DeleteFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Names (not paths) of the entries in `dir`, excluding "." and "..", in no set order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // OK if `path` exists, NotFound if not, another error if it cannot be told.
  virtual Status Exists(const std::string& path) = 0;

  // Takes an exclusive, advisory lock on `path` (created if missing) without waiting, and
  // records the holder (pid) in it. Busy if another holder has it, from this process or another;
  // the message names the path and the holder's pid. The OS drops the lock when the holder dies.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// Joins a directory and a name with one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of `path`: up to its last '/' ("/" for a file in the root), or "." if it
// has none.
std::string DirOf(const std::string& path);

}  // namespace walcache

#endif  // WALCACHE_UTIL_FILE_SYSTEM_H_
