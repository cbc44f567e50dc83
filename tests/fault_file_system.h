// FaultFileSystem: a FileSystem that forwards every call to a real one underneath and fails the
// calls its rules select, as the device would: EIO on write or fdatasync, ENOSPC on
// preallocation, a short write that stores a prefix of the data and then fails. It is not a
// mock: the bytes that do get through land in real files.
//
// Rules are matched in the order added; the first rule that selects a call decides it.
// The crash checker extends this layer with dropped unsynced data (simulated power loss).
//
// Thread-safety: thread-safe. The FaultFileSystem must outlive every file it opened.
#ifndef WALCACHE_TESTS_FAULT_FILE_SYSTEM_H_
#define WALCACHE_TESTS_FAULT_FILE_SYSTEM_H_

#include <array>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "util/file_system.h"
#include "util/forwarding_file_system.h"

namespace walcache {

enum class FaultOp : uint8_t {
  kOpen,      // OpenWritable / OpenReadable
  kWrite,     // WritableFile::Write
  kSync,      // WritableFile::Sync
  kAllocate,  // WritableFile::Allocate
  kTruncate,  // WritableFile::Truncate
  kRead,      // ReadableFile::Read
  kCreateDir,
  kSyncDir,
  kDelete,
  kRename,
  kCount
};

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  // The error the selected calls return; use Status::IOError(msg, errno).
  Status error = Status::IOError("injected fault", 5 /* EIO */);
  // Only calls on paths containing this substring are selected (empty: every path).
  std::string path_contains;
  // Let this many matching calls through before failing any.
  uint64_t skip = 0;
  // Fail this many matching calls, then let them through again (kForever: never stop).
  static constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();
  uint64_t times = kForever;
  // kWrite only: write this many leading bytes of the data for real before failing (a short
  // write). The default writes nothing.
  size_t short_write_bytes = 0;
};

class FaultFileSystem final : public ForwardingFileSystem {
 public:
  // REQUIRES: `base` outlives this object.
  explicit FaultFileSystem(FileSystem* base) : ForwardingFileSystem(base) {}

  void AddRule(FaultRule rule);
  void ClearRules();

  // Calls of `op` seen so far, and how many of them failed by injection.
  uint64_t Calls(FaultOp op) const;
  uint64_t Injected(FaultOp op) const;

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override;
  Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Status DeleteFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // Used by the wrapped files: counts the call and returns the rule that fails it, if any.
  // `short_write_bytes` receives the rule's prefix length for kWrite.
  Status Check(FaultOp op, const std::string& path, size_t* short_write_bytes = nullptr);

 private:
  struct ActiveRule {
    FaultRule rule;
    uint64_t matched = 0;
  };

  mutable std::mutex mu_;
  std::vector<ActiveRule> rules_;
  std::array<uint64_t, static_cast<size_t>(FaultOp::kCount)> calls_{};
  std::array<uint64_t, static_cast<size_t>(FaultOp::kCount)> injected_{};
};

}  // namespace walcache

#endif  // WALCACHE_TESTS_FAULT_FILE_SYSTEM_H_
