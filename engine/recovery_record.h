// The last recovery report, kept in DIR/LAST_RECOVERY so that tools (`walcache inspect`) can show
// it without opening the cache. Format (docs/storage-format.md): one "name value" line a field;
// readers ignore names they do not know.
//
// Thread-safety: plain functions; the caller serializes writers (only the opener writes).
#ifndef WALCACHE_ENGINE_RECOVERY_RECORD_H_
#define WALCACHE_ENGINE_RECOVERY_RECORD_H_

#include <string>

#include "util/file_system.h"
#include "walcache/cache.h"

namespace walcache::engine {

inline constexpr char kRecoveryFile[] = "LAST_RECOVERY";

// Replaces DIR/LAST_RECOVERY atomically (temp file, fsync, rename, fsync of DIR).
Status WriteRecoveryRecord(FileSystem* fs, const std::string& dir, const RecoveryInfo& info,
                           uint64_t opened_at_ms);
// NotFound if the file is missing; Corruption naming the file if a known field is malformed or
// the summary line (always written, last) is missing.
Result<RecoveryInfo> ReadRecoveryRecord(FileSystem* fs, const std::string& dir,
                                        uint64_t* opened_at_ms);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_RECOVERY_RECORD_H_
