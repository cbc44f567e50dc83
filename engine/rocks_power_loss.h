// RocksPowerLossFs: the crash checker's power-loss layer under RocksDB (DESIGN.md §6), a
// rocksdb::FileSystemWrapper over the real file system. It tracks, per file RocksDB writes, how
// many bytes were appended and how many of them an fsync covered, and which new files' directory
// was never fsynced; PowerLoss() then truncates every file to its synced length and deletes those
// files — what a power cut leaves of RocksDB's append-only files. Not a mock: every call reaches
// the real file system.
//
// Installed for a process with SetRocksFileSystemForCrashTest (only the crash-test child does).
//
// Thread-safety: thread-safe.
#ifndef WALCACHE_ENGINE_ROCKS_POWER_LOSS_H_
#define WALCACHE_ENGINE_ROCKS_POWER_LOSS_H_

#include <rocksdb/file_system.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace walcache::engine {

class RocksPowerLossFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit RocksPowerLossFs(const std::shared_ptr<rocksdb::FileSystem>& base)
      : rocksdb::FileSystemWrapper(base) {}
  static const char* kClassName() { return "WalcacheRocksPowerLossFs"; }
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
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;

  // Applies the power cut; returns the bytes lost. Later writes fail.
  uint64_t PowerLoss();

  // Used by the wrapped files and directories.
  rocksdb::IOStatus Appended(const std::string& f, uint64_t end);
  rocksdb::IOStatus Synced(const std::string& f);
  void DirSynced(const std::string& dir);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  rocksdb::IOStatus Track(const std::string& f, uint64_t size, bool created,
                          std::unique_ptr<rocksdb::FSWritableFile>* r);

  std::mutex mu_;
  bool dead_ = false;
  std::map<std::string, FileState> files_;
  std::map<std::string, std::set<std::string>> created_;  // dir -> files since its last fsync
};

// The file system RocksStore opens RocksDB with from now on in this process (nullptr: default).
void SetRocksFileSystemForCrashTest(std::shared_ptr<rocksdb::FileSystem> fs);
// That file system, or nullptr for RocksDB's default.
std::shared_ptr<rocksdb::FileSystem> RocksFileSystemForCrashTest();

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_ROCKS_POWER_LOSS_H_
