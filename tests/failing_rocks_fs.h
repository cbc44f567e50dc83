// FailingRocksFs: RocksDB's files under a switch, for the tests that make a checkpoint fail.
// While armed, appends and syncs of RocksDB's own log (*.log) fail with EIO, as a failing disk
// would fail them; every other call reaches the real file system. Pass it to one cache as
// engine::Seams::rocks_fs.
//
// Thread-safety: thread-safe (the switch and the count are atomics).
#ifndef WALCACHE_TESTS_FAILING_ROCKS_FS_H_
#define WALCACHE_TESTS_FAILING_ROCKS_FS_H_

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace walcache {

class FailingRocksFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingRocksFs(const std::shared_ptr<rocksdb::FileSystem>& base)
      : rocksdb::FileSystemWrapper(base) {}
  const char* Name() const override { return "FailingRocksFs"; }
  std::atomic<bool> armed{false};
  std::atomic<uint64_t> injected{0};

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.substr(f.size() - 4) == ".log") {
      *r = std::make_unique<File>(this, std::move(*r));
    }
    return s;
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(FailingRocksFs* fs, std::unique_ptr<rocksdb::FSWritableFile> f)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      return Fail() ? Error() : target()->Append(d, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      return Fail() ? Error() : target()->Append(d, o, v, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return Fail() ? Error() : target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return Fail() ? Error() : target()->Fsync(o, dbg);
    }

   private:
    bool Fail() {
      if (!fs_->armed.load()) return false;
      fs_->injected++;
      return true;
    }
    static rocksdb::IOStatus Error() {
      return rocksdb::IOStatus::IOError("injected EIO in RocksDB");
    }
    FailingRocksFs* const fs_;
  };
};

}  // namespace walcache

#endif  // WALCACHE_TESTS_FAILING_ROCKS_FS_H_
