// ForwardingFileSystem: a FileSystem that passes every call to another, for layers that change
// a few calls and keep the rest (as LevelDB's EnvWrapper): the fault layer, the crash checker's
// power-loss layer. A subclass overrides what it changes and calls base() for the real thing.
//
// Thread-safety: as thread-safe as `base`.
#ifndef WALCACHE_UTIL_FORWARDING_FILE_SYSTEM_H_
#define WALCACHE_UTIL_FORWARDING_FILE_SYSTEM_H_

#include <memory>
#include <string>
#include <vector>

#include "util/file_system.h"

namespace walcache {

class ForwardingFileSystem : public FileSystem {
 public:
  // REQUIRES: `base` outlives this object.
  explicit ForwardingFileSystem(FileSystem* base) : base_(base) {}

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override {
    return base_->OpenWritable(path, mode);
  }
  Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) override {
    return base_->OpenReadable(path);
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Status DeleteFile(const std::string& path) override { return base_->DeleteFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Status Exists(const std::string& path) override { return base_->Exists(path); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 protected:
  FileSystem* base() const { return base_; }

 private:
  FileSystem* const base_;
};

}  // namespace walcache

#endif  // WALCACHE_UTIL_FORWARDING_FILE_SYSTEM_H_
