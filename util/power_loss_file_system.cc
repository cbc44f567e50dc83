// PowerLossFileSystem (see power_loss_file_system.h).
#include "util/power_loss_file_system.h"

#include <algorithm>
#include <random>

#include "util/status_macros.h"

namespace walcache {
namespace {

class PowerLossWritableFile final : public WritableFile {
 public:
  PowerLossWritableFile(PowerLossFileSystem* fs, std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}
  Status Write(uint64_t offset, std::string_view data) override {
    WALCACHE_RETURN_IF_ERROR(fs_->RecordWrite(path(), offset, data.size()));
    return base_->Write(offset, data);
  }
  Status Sync() override {
    WALCACHE_RETURN_IF_ERROR(base_->Sync());
    return fs_->RecordSync(path());
  }
  Status Allocate(uint64_t offset, uint64_t len) override { return base_->Allocate(offset, len); }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  PowerLossFileSystem* const fs_;
  const std::unique_ptr<WritableFile> base_;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> PowerLossFileSystem::OpenWritable(const std::string& path,
                                                                        OpenMode mode) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return Status::IOError(path + ": power lost");
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->OpenWritable(path, mode));
  if (mode == OpenMode::kCreateNew) {
    std::lock_guard<std::mutex> l(mu_);
    created_[DirOf(path)].insert(path);
  }
  return std::unique_ptr<WritableFile>(new PowerLossWritableFile(this, std::move(f)));
}

Status PowerLossFileSystem::SyncDir(const std::string& path) {
  WALCACHE_RETURN_IF_ERROR(base_->SyncDir(path));
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return Status::IOError(path + ": power lost");
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  created_.erase(dir);
  return Status::OK();
}

Status PowerLossFileSystem::DeleteFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return Status::IOError(path + ": power lost");
    unsynced_.erase(path);
    auto it = created_.find(DirOf(path));
    if (it != created_.end()) it->second.erase(path);
  }
  return base_->DeleteFile(path);
}

Status PowerLossFileSystem::RenameFile(const std::string& from, const std::string& to) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return Status::IOError(from + ": power lost");
  }
  return base_->RenameFile(from, to);
}

Status PowerLossFileSystem::RecordWrite(const std::string& path, uint64_t offset, uint64_t len) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return Status::IOError(path + ": power lost");
  unsynced_[path].push_back(Range{offset, len});
  return Status::OK();
}

Status PowerLossFileSystem::RecordSync(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return Status::IOError(path + ": power lost");
  unsynced_.erase(path);
  return Status::OK();
}

Result<uint64_t> PowerLossFileSystem::PowerLoss(Tear tear, uint64_t seed) {
  std::lock_guard<std::mutex> l(mu_);
  dead_ = true;
  std::mt19937_64 rng(seed);
  uint64_t lost = 0;
  for (const auto& [path, ranges] : unsynced_) {
    auto f = base_->OpenWritable(path, OpenMode::kOpenExisting);
    if (!f.ok()) continue;  // deleted since
    for (size_t i = 0; i < ranges.size(); ++i) {
      const Range& r = ranges[i];
      std::string bytes(r.len, '\0');
      uint64_t keep = 0;
      if (i + 1 == ranges.size()) {
        if (tear == Tear::kSector && r.len >= 512) keep = (rng() % (r.len / 512 + 1)) * 512;
        if (tear == Tear::kGarbage) {
          for (char& c : bytes) c = static_cast<char>(rng());
        }
      }
      lost += r.len - keep;
      if (keep < r.len) {
        WALCACHE_RETURN_IF_ERROR(
            (*f)->Write(r.offset + keep, std::string_view(bytes).substr(0, r.len - keep)));
      }
    }
    WALCACHE_RETURN_IF_ERROR((*f)->Sync());
  }
  for (const auto& [dir, files] : created_) {
    for (const std::string& path : files) (void)base_->DeleteFile(path);
    (void)base_->SyncDir(dir);
  }
  return lost;
}

}  // namespace walcache
