// FaultFileSystem (see fault_file_system.h). Thread-safe: rule state under one mutex; the
// wrapped files call Check() before forwarding.
#include "tests/fault_file_system.h"

#include <algorithm>

namespace walcache {
namespace {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultFileSystem* fs, std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Status Write(uint64_t offset, std::string_view data) override {
    size_t prefix = 0;
    Status s = fs_->Check(FaultOp::kWrite, path(), &prefix);
    if (!s.ok()) {
      prefix = std::min(prefix, data.size());
      if (prefix > 0) (void)base_->Write(offset, data.substr(0, prefix));
      return s;
    }
    return base_->Write(offset, data);
  }
  Status Sync() override {
    Status s = fs_->Check(FaultOp::kSync, path());
    return s.ok() ? base_->Sync() : s;
  }
  Status Allocate(uint64_t offset, uint64_t len) override {
    Status s = fs_->Check(FaultOp::kAllocate, path());
    return s.ok() ? base_->Allocate(offset, len) : s;
  }
  Status Truncate(uint64_t size) override {
    Status s = fs_->Check(FaultOp::kTruncate, path());
    return s.ok() ? base_->Truncate(size) : s;
  }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultFileSystem* const fs_;
  const std::unique_ptr<WritableFile> base_;
};

class FaultReadableFile final : public ReadableFile {
 public:
  FaultReadableFile(FaultFileSystem* fs, std::unique_ptr<ReadableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const override {
    Status s = fs_->Check(FaultOp::kRead, path());
    return s.ok() ? base_->Read(offset, n, scratch, got) : s;
  }
  Result<uint64_t> Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultFileSystem* const fs_;
  const std::unique_ptr<ReadableFile> base_;
};

}  // namespace

void FaultFileSystem::AddRule(FaultRule rule) {
  std::lock_guard<std::mutex> l(mu_);
  rules_.push_back(ActiveRule{std::move(rule)});
}

void FaultFileSystem::ClearRules() {
  std::lock_guard<std::mutex> l(mu_);
  rules_.clear();
}

uint64_t FaultFileSystem::Calls(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_[static_cast<size_t>(op)];
}

uint64_t FaultFileSystem::Injected(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  return injected_[static_cast<size_t>(op)];
}

Status FaultFileSystem::Check(FaultOp op, const std::string& path, size_t* short_write_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  ++calls_[static_cast<size_t>(op)];
  for (ActiveRule& r : rules_) {
    if (r.rule.op != op) continue;
    if (!r.rule.path_contains.empty() && path.find(r.rule.path_contains) == std::string::npos) {
      continue;
    }
    const uint64_t n = r.matched++;
    if (n < r.rule.skip) return Status::OK();
    if (r.rule.times != FaultRule::kForever && n - r.rule.skip >= r.rule.times) continue;
    ++injected_[static_cast<size_t>(op)];
    if (short_write_bytes != nullptr) *short_write_bytes = r.rule.short_write_bytes;
    return r.rule.error.WithContext(path);
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultFileSystem::OpenWritable(const std::string& path,
                                                                    OpenMode mode) {
  Status s = Check(FaultOp::kOpen, path);
  if (!s.ok()) return s;
  auto opened = base()->OpenWritable(path, mode);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(opened).value()));
}

Result<std::unique_ptr<ReadableFile>> FaultFileSystem::OpenReadable(const std::string& path) {
  Status s = Check(FaultOp::kOpen, path);
  if (!s.ok()) return s;
  auto opened = base()->OpenReadable(path);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<ReadableFile>(new FaultReadableFile(this, std::move(opened).value()));
}

Status FaultFileSystem::CreateDir(const std::string& path) {
  Status s = Check(FaultOp::kCreateDir, path);
  return s.ok() ? base()->CreateDir(path) : s;
}

Status FaultFileSystem::SyncDir(const std::string& path) {
  Status s = Check(FaultOp::kSyncDir, path);
  return s.ok() ? base()->SyncDir(path) : s;
}

Status FaultFileSystem::DeleteFile(const std::string& path) {
  Status s = Check(FaultOp::kDelete, path);
  return s.ok() ? base()->DeleteFile(path) : s;
}

Status FaultFileSystem::RenameFile(const std::string& from, const std::string& to) {
  Status s = Check(FaultOp::kRename, from);
  return s.ok() ? base()->RenameFile(from, to) : s;
}

Result<std::unique_ptr<FileLock>> FaultFileSystem::LockFile(const std::string& path) {
  Status s = Check(FaultOp::kOpen, path);
  if (!s.ok()) return s;
  return base()->LockFile(path);
}

}  // namespace walcache
