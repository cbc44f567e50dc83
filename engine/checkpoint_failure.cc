// DIR/CHECKPOINT_FAILED (see checkpoint_failure.h).
#include "engine/checkpoint_failure.h"

#include <cerrno>

#include "util/fields_file.h"
#include "util/status_macros.h"

namespace walcache::engine {

Status WriteCheckpointFailure(FileSystem* fs, const std::string& dir, const CheckpointFailure& f) {
  return WriteFieldsFile(fs, JoinPath(dir, kCheckpointFailureFile),
                         {{"failed_at_ms", std::to_string(f.failed_at_ms)},
                          {"failures", std::to_string(f.failures)},
                          {"error", f.error}});
}

Status ClearCheckpointFailure(FileSystem* fs, const std::string& dir) {
  const Status s = fs->DeleteFile(JoinPath(dir, kCheckpointFailureFile));
  if (!s.ok()) return s.sys_errno() == ENOENT ? Status::OK() : s;  // nothing to make durable
  return fs->SyncDir(dir);
}

Result<CheckpointFailure> ReadCheckpointFailure(FileSystem* fs, const std::string& dir) {
  const std::string path = JoinPath(dir, kCheckpointFailureFile);
  WALCACHE_ASSIGN_OR_RETURN(Fields fields, ReadFieldsFile(fs, path));
  CheckpointFailure f;
  for (const auto& field : fields) {
    if (field.first == "failed_at_ms") {
      WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &f.failed_at_ms));
    } else if (field.first == "failures") {
      WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &f.failures));
    } else if (field.first == "error") {
      f.error = field.second;
    }
  }
  return f;
}

}  // namespace walcache::engine
