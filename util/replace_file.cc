// ReplaceFile (see replace_file.h).
#include "util/replace_file.h"

#include "util/status_macros.h"

namespace walcache {

Status ReplaceFile(FileSystem* fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  (void)fs->DeleteFile(tmp);  // left by a crash during an earlier write
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                            fs->OpenWritable(tmp, OpenMode::kCreateNew));
  WALCACHE_RETURN_IF_ERROR(f->Write(0, data));
  WALCACHE_RETURN_IF_ERROR(f->Sync());
  WALCACHE_RETURN_IF_ERROR(f->Close());
  WALCACHE_RETURN_IF_ERROR(fs->RenameFile(tmp, path));
  return fs->SyncDir(DirOf(path));
}

}  // namespace walcache
