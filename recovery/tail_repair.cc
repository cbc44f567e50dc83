// Tail repair (see tail_repair.h).
#include "recovery/tail_repair.h"

#include "util/status_macros.h"

namespace walcache::recovery {

Status RepairTornTail(FileSystem* fs, const std::string& wal_dir, const wal::TailReport& tail) {
  switch (tail.state) {
    case wal::TailState::kClean:
      // A newest segment created but never written (empty, or preallocated zeros) ends the log
      // cleanly, but it must go too: left there, the next writer would start the segment after
      // it, and the next reader would find a segment without a header in the middle of the log.
      if (tail.file.empty() || tail.valid_end != 0) return Status::OK();
      break;
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
