// PowerLossFileSystem: wraps a FileSystem and remembers what a power cut would take back — bytes
// written since their file's last Sync, and files created since their directory's last SyncDir —
// so that the crash checker can apply exactly that to the real files at a kill point and then
// _exit (DESIGN.md §6). Not a mock: every call goes to the wrapped file system.
//
// Written bytes are assumed to overwrite zeros (true of walcache's preallocated, append-only WAL
// segments), so "never reached the disk" is restored as zeros.
//
// Thread-safety: thread-safe. After PowerLoss every write, sync and create fails with IOError.
#ifndef WALCACHE_UTIL_POWER_LOSS_FILE_SYSTEM_H_
#define WALCACHE_UTIL_POWER_LOSS_FILE_SYSTEM_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "util/file_system.h"

namespace walcache {

class PowerLossFileSystem final : public FileSystem {
 public:
  // What becomes of the last unsynced write of each file (earlier ones are always lost).
  enum class Tear : uint8_t {
    kDrop,     // lost whole
    kSector,   // a prefix of whole 512-byte sectors survives
    kGarbage,  // the range holds random bytes
  };

  // REQUIRES: `base` outlives this object.
  explicit PowerLossFileSystem(FileSystem* base) : base_(base) {}

  // Applies the power cut to the files on disk; returns how many unsynced bytes were lost.
  Result<uint64_t> PowerLoss(Tear tear, uint64_t seed);

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override;
  Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) override {
    return base_->OpenReadable(path);
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status SyncDir(const std::string& path) override;
  Status DeleteFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Status Exists(const std::string& path) override { return base_->Exists(path); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

  // Used by the wrapped files.
  Status RecordWrite(const std::string& path, uint64_t offset, uint64_t len);
  Status RecordSync(const std::string& path);

 private:
  struct Range {
    uint64_t offset, len;
  };
  FileSystem* const base_;
  std::mutex mu_;
  bool dead_ = false;
  std::map<std::string, std::vector<Range>> unsynced_;    // path -> writes since its last Sync
  std::map<std::string, std::set<std::string>> created_;  // dir -> files created since SyncDir
};

}  // namespace walcache

#endif  // WALCACHE_UTIL_POWER_LOSS_FILE_SYSTEM_H_
