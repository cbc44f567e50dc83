// Tail repair: makes a torn WAL tail a clean end, so that the log can be appended to again and
// the next reader does not mistake the old damage for corruption in the middle of the log.
//
// Thread-safety: REQUIRES exclusive use of the WAL directory (no writer, no other repair).
#ifndef WALCACHE_RECOVERY_TAIL_REPAIR_H_
#define WALCACHE_RECOVERY_TAIL_REPAIR_H_

#include <string>

#include "util/file_system.h"
#include "wal/reader.h"
#include "walcache/status.h"

namespace walcache::recovery {

// Repairs what `tail` (from a reader that finished with kTorn) describes: a segment with a valid
// header is truncated to tail.valid_end and synced; a segment whose header never became valid
// (valid_end == 0) is deleted and the directory synced, whether it is torn or clean (created but
// never written). Returns OK without changing anything for any other clean tail;
// InvalidArgument for a corrupt one (that needs an explicit `walcache repair`).
// Crash-safe: interrupted, it leaves either the old torn tail or the repaired one.
Status RepairTornTail(FileSystem* fs, const std::string& wal_dir, const wal::TailReport& tail);

// fdatasyncs the segment at `path` as it is (a clean tail another process wrote but may not have
// synced), so that what recovery read from it cannot be lost later.
Status SyncSegment(FileSystem* fs, const std::string& path);

}  // namespace walcache::recovery

#endif  // WALCACHE_RECOVERY_TAIL_REPAIR_H_
