// Replay: brings a consumer of the log up to date after a crash. Reads the WAL records after a
// given sequence number, in order, hands each decoded batch to a sink, and repairs a torn tail
// so that the log can be appended to again. Knows nothing of the engine: the engine passes a
// sink (docs/design.md §5).
//
// Idempotent and crash-safe: replay only reads until the tail repair, and the repair (truncating
// the newest segment to the end of its last valid record, or deleting a newest segment whose
// header never became durable) is itself safe to interrupt and redo. A crash at any point
// leaves a directory the next replay recovers to the same state.
//
// Thread-safety: Replay is a free function; the sink is called from the calling thread only.
#ifndef WALCACHE_RECOVERY_REPLAY_H_
#define WALCACHE_RECOVERY_REPLAY_H_

#include <cstdint>
#include <string>

#include "util/file_system.h"
#include "wal/batch.h"
#include "wal/reader.h"
#include "walcache/result.h"

namespace walcache::recovery {

// Receives replayed transactions.
class ReplaySink {
 public:
  virtual ~ReplaySink() = default;
  // Applies the transaction logged under `seq`. Called once per record, in increasing seq order
  // with no gaps. A non-OK return stops the replay; Replay returns it.
  virtual Status Apply(uint64_t seq, const wal::Batch& batch) = 0;
};

struct ReplayOptions {
  // Replay records with seq >= from_seq (the checkpoint sequence + 1). Records before it are
  // checked but not applied. If the WAL starts after from_seq, records are missing: Corruption.
  uint64_t from_seq = 1;
  // Truncate a torn tail (and delete a newest segment that has no valid header). Off: report it
  // only, change nothing (read-only opens, `walcache verify`).
  bool repair_tail = true;
};

struct ReplayReport {
  uint64_t segments = 0;           // segment files found
  uint64_t segments_skipped = 0;   // not read: all their records precede from_seq
  uint64_t records_read = 0;       // valid records read (applied or not)
  uint64_t records_applied = 0;    // records handed to the sink
  uint64_t bytes_applied = 0;      // their stored bytes, headers included
  uint64_t first_applied_seq = 0;  // 0 if none was applied
  uint64_t last_seq = 0;           // seq of the last valid record in the WAL (see TailReport)
  wal::TailReport tail;            // how valid data ended
  bool tail_repaired = false;      // the torn tail was truncated / the empty segment deleted
  double seconds = 0;

  // One line for logs and the CLI: "replayed 120 records (1.2 MiB) from 2 segments in 0.01 s;
  // tail torn: 37 bytes dropped at .../000002.wal offset 4096 (repaired)".
  std::string ToString() const;
};

// Replays `wal_dir` into `sink`. Errors: Corruption (damage followed by valid records, a
// sequence gap, missing records, an undecodable batch) naming the file and offset; NotSupported
// for a newer format; I/O errors; or the sink's own error. On error nothing is repaired.
Result<ReplayReport> Replay(FileSystem* fs, const std::string& wal_dir, ReplaySink* sink,
                            const ReplayOptions& options = {});

}  // namespace walcache::recovery

#endif  // WALCACHE_RECOVERY_REPLAY_H_
