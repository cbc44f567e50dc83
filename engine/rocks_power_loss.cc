// RocksPowerLossFs (see rocks_power_loss.h).
#include "engine/rocks_power_loss.h"

#include <rocksdb/env.h>
#include <unistd.h>

namespace walcache::engine {
namespace {

std::string Normalize(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : Normalize(path.substr(0, slash));
}

class TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(RocksPowerLossFs* fs, std::string path, std::unique_ptr<rocksdb::FSWritableFile> f,
              uint64_t size)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(f)),
        fs_(fs),
        path_(std::move(path)),
        size_(size) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    size_ += d.size();
    rocksdb::IOStatus s = fs_->Appended(path_, size_);
    return s.ok() ? target()->Append(d, o, dbg) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    size_ += d.size();
    rocksdb::IOStatus s = fs_->Appended(path_, size_);
    return s.ok() ? target()->Append(d, o, v, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    size_ = std::max(size_, off + d.size());
    rocksdb::IOStatus s = fs_->Appended(path_, size_);
    return s.ok() ? target()->PositionedAppend(d, off, o, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo& v,
                                     rocksdb::IODebugContext* dbg) override {
    size_ = std::max(size_, off + d.size());
    rocksdb::IOStatus s = fs_->Appended(path_, size_);
    return s.ok() ? target()->PositionedAppend(d, off, o, v, dbg) : s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    size_ = size;
    rocksdb::IOStatus s = fs_->Appended(path_, size_);
    return s.ok() ? target()->Truncate(size, o, dbg) : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Sync(o, dbg);
    return s.ok() ? fs_->Synced(path_) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Fsync(o, dbg);
    return s.ok() ? fs_->Synced(path_) : s;
  }

 private:
  RocksPowerLossFs* const fs_;
  const std::string path_;
  uint64_t size_;
};

class TrackedDir final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDir(RocksPowerLossFs* fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> d)
      : rocksdb::FSDirectoryWrapper(std::move(d)), fs_(fs), path_(Normalize(std::move(path))) {}
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = rocksdb::FSDirectoryWrapper::Fsync(o, dbg);
    if (s.ok()) fs_->DirSynced(path_);
    return s;
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& d) override {
    rocksdb::IOStatus s = rocksdb::FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d);
    if (s.ok()) fs_->DirSynced(path_);
    return s;
  }

 private:
  RocksPowerLossFs* const fs_;
  const std::string path_;
};

std::shared_ptr<rocksdb::FileSystem> g_fs;

}  // namespace

rocksdb::IOStatus RocksPowerLossFs::Track(const std::string& f, uint64_t size, bool created,
                                          std::unique_ptr<rocksdb::FSWritableFile>* r) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return rocksdb::IOStatus::IOError(f + ": power lost");
  files_[f] = FileState{size, size};
  if (created) created_[DirOf(f)].insert(f);
  r->reset(new TrackedFile(this, f, std::move(*r), size));
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus RocksPowerLossFs::NewWritableFile(const std::string& f,
                                                    const rocksdb::FileOptions& o,
                                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
  return s.ok() ? Track(f, 0, true, r) : s;
}

rocksdb::IOStatus RocksPowerLossFs::ReopenWritableFile(const std::string& f,
                                                       const rocksdb::FileOptions& o,
                                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                       rocksdb::IODebugContext* dbg) {
  uint64_t size = 0;
  (void)target()->GetFileSize(f, rocksdb::IOOptions(), &size, dbg);
  rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, dbg);
  return s.ok() ? Track(f, size, false, r) : s;
}

rocksdb::IOStatus RocksPowerLossFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                                      const rocksdb::FileOptions& o,
                                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                      rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->ReuseWritableFile(f, old, o, r, dbg);
  return s.ok() ? Track(f, 0, true, r) : s;
}

rocksdb::IOStatus RocksPowerLossFs::NewDirectory(const std::string& name,
                                                 const rocksdb::IOOptions& o,
                                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                                 rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewDirectory(name, o, r, dbg);
  if (s.ok()) r->reset(new TrackedDir(this, name, std::move(*r)));
  return s;
}

rocksdb::IOStatus RocksPowerLossFs::DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                                               rocksdb::IODebugContext* dbg) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return rocksdb::IOStatus::IOError(f + ": power lost");
    files_.erase(f);
    auto it = created_.find(DirOf(f));
    if (it != created_.end()) it->second.erase(f);
  }
  return target()->DeleteFile(f, o, dbg);
}

rocksdb::IOStatus RocksPowerLossFs::RenameFile(const std::string& s, const std::string& t,
                                               const rocksdb::IOOptions& o,
                                               rocksdb::IODebugContext* dbg) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return rocksdb::IOStatus::IOError(s + ": power lost");
    auto it = files_.find(s);
    if (it != files_.end()) {
      files_[t] = it->second;
      files_.erase(s);
    }
    // Until the directory is fsynced, a power cut may undo the rename: the new name is as
    // fragile as a new file (the checker then loses the renamed file, the harsher outcome).
    created_[DirOf(t)].insert(t);
    auto c = created_.find(DirOf(s));
    if (c != created_.end()) c->second.erase(s);
  }
  return target()->RenameFile(s, t, o, dbg);
}

rocksdb::IOStatus RocksPowerLossFs::Appended(const std::string& f, uint64_t end) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return rocksdb::IOStatus::IOError(f + ": power lost");
  FileState& st = files_[f];
  st.size = end;
  st.synced = std::min(st.synced, end);
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus RocksPowerLossFs::Synced(const std::string& f) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return rocksdb::IOStatus::IOError(f + ": power lost");
  FileState& st = files_[f];
  st.synced = st.size;
  return rocksdb::IOStatus::OK();
}

void RocksPowerLossFs::DirSynced(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  if (!dead_) created_.erase(dir);
}

uint64_t RocksPowerLossFs::PowerLoss() {
  std::lock_guard<std::mutex> l(mu_);
  dead_ = true;
  uint64_t lost = 0;
  for (const auto& [path, st] : files_) {
    if (st.synced < st.size && ::truncate(path.c_str(), static_cast<off_t>(st.synced)) == 0) {
      lost += st.size - st.synced;
    }
  }
  for (const auto& [dir, files] : created_) {
    for (const std::string& f : files) (void)::unlink(f.c_str());
  }
  return lost;
}

void SetRocksFileSystemForCrashTest(std::shared_ptr<rocksdb::FileSystem> fs) {
  g_fs = std::move(fs);
}

std::shared_ptr<rocksdb::FileSystem> RocksFileSystemForCrashTest() { return g_fs; }

}  // namespace walcache::engine
