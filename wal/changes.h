// Changes: the change feed read from the WAL (docs/change-feed.md). The one reading path of
// Cache::Changes (which stops at the visible watermark) and of `walcache wal dump --since` (which
// reads to the end of the data on disk), and the conversion of a logged batch to the public
// ChangeTxn (include/walcache/change_feed.h), whose stable encoding is defined here too.
//
// Thread-safety: pure functions, plus file reads that are as thread-safe as the FileSystem.
#ifndef WALCACHE_WAL_CHANGES_H_
#define WALCACHE_WAL_CHANGES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/file_system.h"
#include "wal/batch.h"
#include "wal/reader.h"
#include "walcache/change_feed.h"
#include "walcache/result.h"

namespace walcache::wal {

// The transaction `seq` as its record's batch holds it.
ChangeTxn ToChangeTxn(uint64_t seq, const Batch& batch);

struct ChangesRead {
  ChangeBatch batch;
  // Reading reached the end of valid data before `upto` (only possible with upto above the last
  // record); tail then says how the log ends.
  bool reached_end = false;
  TailReport tail;
  // Where the record after the last one returned starts (its segment may end there: then the
  // record is the next segment's first), for the next call's `start`; unset if none was returned.
  std::optional<ReadPosition> next;
};

// Reads the transactions from + 1 .. upto of the WAL in `wal_dir`, at most `max` of them, into
// batch.txns (batch.next_from = the last one's seq, else from; batch.visible is left to the
// caller). Sets batch.gap and batch.oldest_from, with no txns, when the first segment holding
// records after `from` starts after from + 1 (a WAL with no such segment: a gap unless
// from >= upto), or when the log ends before `from` (oldest_from is then its last seq). Records
// are read only while the next seq is at most `upto`, so a caller that passes its visible
// watermark never reads a record past it (nor a torn one a live writer is appending). Segments
// deleted while it reads (a checkpoint beside it): one holding only records up to `from` is read
// around (it lists again, a few times); a later one ends the batch early after what was read, and
// the next call reports the gap. Errors: the reader's (Corruption for a damaged log or a record
// that does not decode, NotSupported, I/O errors).
// A caller that must not see a gap mid-read (the engine) keeps every segment holding a record
// after `from` meanwhile (engine/feed_retention.h).
// `start`: a position a previous call returned as `next` with from + 1 as its seq, so that
// reading starts there instead of at its segment's start (ReaderOptions::start says when it
// applies; otherwise it is ignored).
Result<ChangesRead> ReadChanges(FileSystem* fs, const std::string& wal_dir, uint64_t from,
                                uint64_t upto, size_t max,
                                std::optional<ReadPosition> start = std::nullopt);

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_CHANGES_H_
