// Tail repair (see tail_repair.h).
#include "recovery/tail_repair.h"

#include "util/status_macros.h"

namespace walcache::recovery {

Status RepairTornTail(FileSystem* fs, const std::string& wal_dir, const wal::TailReport& tail) {
  switch (tail.state) {
    case wal::TailState::kClean:
      return Status::OK();
    case wal::TailState::kCorrupt:
      return Status::InvalidArgument(tail.file + ": the WAL is corrupt (" + tail.detail +
                                     "); only an explicit repair may cut it");
    case wal::TailState::kTorn:
      break;
  }
  if (tail.valid_end == 0) {
    // The newest segment's header never became durable: nothing in it was ever acknowledged.
    WALCACHE_RETURN_IF_ERROR(fs->DeleteFile(tail.file));
    return fs->SyncDir(wal_dir);
  }
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                            fs->OpenWritable(tail.file, OpenMode::kOpenExisting));
  WALCACHE_RETURN_IF_ERROR(f->Truncate(tail.valid_end));
  WALCACHE_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

Status SyncSegment(FileSystem* fs, const std::string& path) {
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                            fs->OpenWritable(path, OpenMode::kOpenExisting));
  WALCACHE_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

}  // namespace walcache::recovery
