// PowerLossFileSystem: walcache's FileSystem over the power-loss ledger (see
// power_loss_file_system.h).
#include "checker/power_loss_file_system.h"

#include "util/status_macros.h"

namespace walcache {

// ---- PowerLossFileSystem. ----

namespace {

class PowerLossWritableFile final : public WritableFile {
 public:
  PowerLossWritableFile(PowerLossLedger* ledger, std::unique_ptr<WritableFile> base)
      : ledger_(ledger), base_(std::move(base)) {}
  Status Write(uint64_t offset, std::string_view data) override {
    return ledger_->Write(base_.get(), offset, data);
  }
  Status Sync() override {
    return ledger_->Sync<Status>(path(), [&] { return base_->Sync(); });
  }
  Status Allocate(uint64_t offset, uint64_t len) override {
    return ledger_->Allocate(base_.get(), offset, len);
  }
  Status Truncate(uint64_t size) override { return ledger_->Truncate(base_.get(), size); }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  PowerLossLedger* const ledger_;
  const std::unique_ptr<WritableFile> base_;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> PowerLossFileSystem::OpenWritable(const std::string& path,
                                                                        OpenMode mode) {
  Result<std::unique_ptr<WritableFile>> opened = Status::IOError(path + ": not opened");
  auto open = [&] {
    opened = base()->OpenWritable(path, mode);
    return opened.status();
  };
  if (mode == OpenMode::kCreateNew) {
    WALCACHE_RETURN_IF_ERROR(ledger_->Create<Status>(path, false, open));
  } else {
    WALCACHE_RETURN_IF_ERROR(ledger_->Alive(path));
    WALCACHE_RETURN_IF_ERROR(open());
  }
  return std::unique_ptr<WritableFile>(
      new PowerLossWritableFile(ledger_, std::move(opened).value()));
}

Status PowerLossFileSystem::SyncDir(const std::string& path) {
  return ledger_->SyncDir<Status>(path, [&] { return base()->SyncDir(path); });
}

Status PowerLossFileSystem::DeleteFile(const std::string& path) {
  WALCACHE_RETURN_IF_ERROR(ledger_->Alive(path));
  bool tracked = false;
  const int err = ledger_->Delete(path, &tracked);
  if (!tracked) return err != 0 ? Status::IOError(path + ": power lost") : base()->DeleteFile(path);
  return err == 0 ? Status::OK() : Status::IOError("delete " + path, err);
}

Status PowerLossFileSystem::RenameFile(const std::string& from, const std::string& to) {
  WALCACHE_RETURN_IF_ERROR(ledger_->Alive(from));
  bool tracked = false;
  const int err = ledger_->Rename(from, to, &tracked);
  if (!tracked) {
    return err != 0 ? Status::IOError(from + ": power lost") : base()->RenameFile(from, to);
  }
  return err == 0 ? Status::OK() : Status::IOError("rename " + from + " to " + to, err);
}

}  // namespace walcache
