// DIR/CHECKPOINT_FAILED: present while the cache's checkpoints fail (a RocksDB write or sync
// error), so that `walcache inspect` can show it without the process's Stats. Written after each
// failed checkpoint and deleted by the next one that succeeds; best effort, since the disk that
// fails RocksDB may fail this write too. Format (docs/storage-format.md): "name value" lines.
//
// Thread-safety: plain functions; the caller serializes writers (the checkpoint mutex).
#ifndef WALCACHE_ENGINE_CHECKPOINT_FAILURE_H_
#define WALCACHE_ENGINE_CHECKPOINT_FAILURE_H_

#include <cstdint>
#include <string>

#include "util/file_system.h"

namespace walcache::engine {

inline constexpr char kCheckpointFailureFile[] = "CHECKPOINT_FAILED";

struct CheckpointFailure {
  uint64_t failed_at_ms = 0;  // Unix time of the last failure
  uint64_t failures = 0;      // failed checkpoints since the cache opened
  std::string error;
};

Status WriteCheckpointFailure(FileSystem* fs, const std::string& dir, const CheckpointFailure& f);
// Deletes the file (OK if it is missing) and syncs the directory.
Status ClearCheckpointFailure(FileSystem* fs, const std::string& dir);
// NotFound if checkpoints are not failing; Corruption naming the line if a field is malformed.
Result<CheckpointFailure> ReadCheckpointFailure(FileSystem* fs, const std::string& dir);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_CHECKPOINT_FAILURE_H_
