// RocksPowerLossFs (see rocks_power_loss.h).
#include "checker/rocks_power_loss.h"

#include <sys/stat.h>

#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace walcache::checker {
namespace {

rocksdb::IOStatus FromStatus(const Status& s) {
  return s.ok() ? rocksdb::IOStatus::OK() : rocksdb::IOStatus::IOError(s.ToString());
}

rocksdb::IOStatus FromErrno(const std::string& what, int err) {
  const std::string msg = what + ": " + std::strerror(err);
  return err == ENOENT ? rocksdb::IOStatus::PathNotFound(msg) : rocksdb::IOStatus::IOError(msg);
}

// Files of a process that lost power: kept, open and reachable, until it exits, never closed.
void Bury(std::unique_ptr<rocksdb::FSWritableFile> f) {
  static std::mutex mu;
  static auto* graves = new std::vector<std::unique_ptr<rocksdb::FSWritableFile>>();
  std::lock_guard<std::mutex> l(mu);
  graves->push_back(std::move(f));
}

// After the power cut the dying process must not touch its files again, as a real one could not:
// RocksDB's close (and its file's destructor) cuts a preallocated file to its logical size with
// ftruncate, which would grow a file the cut had shortened back with zeros over what the cut
// took (a MANIFEST whose last record then fails its checksum). So a close after the cut is
// refused, and the file is left unclosed; the process exits right after.
class TrackedFile final : public rocksdb::FSWritableFileWrapper {
 public:
  TrackedFile(PowerLossLedger* ledger, std::string path, std::unique_ptr<rocksdb::FSWritableFile> f,
              uint64_t size)
      : rocksdb::FSWritableFileWrapper(f.get()),
        owned_(std::move(f)),
        ledger_(ledger),
        path_(std::move(path)),
        size_(size) {}
  ~TrackedFile() override {
    std::shared_lock<std::shared_mutex> io(ledger_->io_mutex());
    if (!ledger_->Alive(path_).ok()) {
      Bury(std::move(owned_));  // never closed: see above
      return;
    }
    owned_.reset();
  }

  rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    std::shared_lock<std::shared_mutex> io(ledger_->io_mutex());
    rocksdb::IOStatus s = FromStatus(ledger_->Alive(path_));
    return s.ok() ? target()->Close(o, dbg) : s;
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    return Appending(size_, d.size(), [&] { return target()->Append(d, o, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    return Appending(size_, d.size(), [&] { return target()->Append(d, o, v, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    return Appending(off, d.size(), [&] { return target()->PositionedAppend(d, off, o, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo& v,
                                     rocksdb::IODebugContext* dbg) override {
    return Appending(off, d.size(), [&] { return target()->PositionedAppend(d, off, o, v, dbg); });
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    std::shared_lock<std::shared_mutex> io(ledger_->io_mutex());
    rocksdb::IOStatus s = FromStatus(ledger_->Alive(path_));
    if (s.ok()) s = target()->Truncate(size, o, dbg);
    if (s.ok()) s = FromStatus(ledger_->AfterRocksTruncate(path_, size));
    if (s.ok()) size_ = size;
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return ledger_->Sync<rocksdb::IOStatus>(path_, [&] { return target()->Sync(o, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return ledger_->Sync<rocksdb::IOStatus>(path_, [&] { return target()->Fsync(o, dbg); });
  }

 private:
  // Records the durable size before the first unsynced append, then appends; the write happens
  // under the ledger's I/O lock, so a power cut never races it.
  template <typename F>
  rocksdb::IOStatus Appending(uint64_t off, size_t n, F append) {
    std::shared_lock<std::shared_mutex> io(ledger_->io_mutex());
    // An overwrite below size_ (direct I/O only) is not modelled: it counts as durable.
    rocksdb::IOStatus s = FromStatus(ledger_->BeforeAppend(path_, size_));
    if (s.ok()) s = append();
    if (s.ok()) size_ = std::max(size_, off + n);
    return s;
  }

  std::unique_ptr<rocksdb::FSWritableFile> owned_;
  PowerLossLedger* const ledger_;
  const std::string path_;
  uint64_t size_;
};

class TrackedDir final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDir(PowerLossLedger* ledger, std::string path, std::unique_ptr<rocksdb::FSDirectory> d)
      : rocksdb::FSDirectoryWrapper(std::move(d)), ledger_(ledger), path_(std::move(path)) {}
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return ledger_->SyncDir<rocksdb::IOStatus>(
        path_, [&] { return rocksdb::FSDirectoryWrapper::Fsync(o, dbg); });
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& d) override {
    return ledger_->SyncDir<rocksdb::IOStatus>(
        path_, [&] { return rocksdb::FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d); });
  }

 private:
  PowerLossLedger* const ledger_;
  const std::string path_;
};

}  // namespace

rocksdb::IOStatus RocksPowerLossFs::NewWritableFile(const std::string& f,
                                                    const rocksdb::FileOptions& o,
                                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                    rocksdb::IODebugContext* dbg) {
  struct stat st;
  const bool existed = ::lstat(f.c_str(), &st) == 0;
  rocksdb::IOStatus s = ledger_->Create<rocksdb::IOStatus>(
      f, existed, [&] { return target()->NewWritableFile(f, o, r, dbg); });
  if (!s.ok()) return s;
  ledger_->ForgetFile(f);  // an existing file was cut to 0 for good (O_TRUNC)
  r->reset(new TrackedFile(ledger_, f, std::move(*r), 0));
  return s;
}

rocksdb::IOStatus RocksPowerLossFs::ReopenWritableFile(const std::string& f,
                                                       const rocksdb::FileOptions& o,
                                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                       rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = FromStatus(ledger_->Alive(f));
  if (!s.ok()) return s;
  uint64_t size = 0;
  (void)target()->GetFileSize(f, rocksdb::IOOptions(), &size, dbg);
  s = target()->ReopenWritableFile(f, o, r, dbg);
  if (s.ok()) r->reset(new TrackedFile(ledger_, f, std::move(*r), size));
  return s;
}

rocksdb::IOStatus RocksPowerLossFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                                      const rocksdb::FileOptions& o,
                                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                      rocksdb::IODebugContext* dbg) {
  // Only with recycle_log_file_num, which walcache leaves off: the rename inside is not undone.
  rocksdb::IOStatus s = ledger_->Create<rocksdb::IOStatus>(
      f, false, [&] { return target()->ReuseWritableFile(f, old, o, r, dbg); });
  if (!s.ok()) return s;
  ledger_->ForgetFile(old);
  ledger_->ForgetFile(f);
  r->reset(new TrackedFile(ledger_, f, std::move(*r), 0));
  return s;
}

rocksdb::IOStatus RocksPowerLossFs::NewDirectory(const std::string& name,
                                                 const rocksdb::IOOptions& o,
                                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                                 rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewDirectory(name, o, r, dbg);
  if (s.ok()) r->reset(new TrackedDir(ledger_, name, std::move(*r)));
  return s;
}

rocksdb::IOStatus RocksPowerLossFs::DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                                               rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = FromStatus(ledger_->Alive(f));
  if (!s.ok()) return s;
  bool tracked = false;
  const int err = ledger_->Delete(f, &tracked);
  if (!tracked) return err != 0 ? FromErrno(f, err) : target()->DeleteFile(f, o, dbg);
  return err == 0 ? rocksdb::IOStatus::OK() : FromErrno("delete " + f, err);
}

rocksdb::IOStatus RocksPowerLossFs::RenameFile(const std::string& s, const std::string& t,
                                               const rocksdb::IOOptions& o,
                                               rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus st = FromStatus(ledger_->Alive(s));
  if (!st.ok()) return st;
  bool tracked = false;
  const int err = ledger_->Rename(s, t, &tracked);
  if (!tracked) return err != 0 ? FromErrno(s, err) : target()->RenameFile(s, t, o, dbg);
  return err == 0 ? rocksdb::IOStatus::OK() : FromErrno("rename " + s + " to " + t, err);
}

}  // namespace walcache::checker
