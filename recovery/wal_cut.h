// WAL cut: the explicit repair of `walcache repair`. Where a reader found the valid data to end
// (a torn tail, or corruption the engine refuses to open past), the WAL is cut: nothing before
// the cut changes, and nothing after it is destroyed — the bytes after the cut in that segment are
// saved beside it, and later segments are moved aside, so an operator can still look at them.
//
// Thread-safety: REQUIRES exclusive use of the WAL directory (the caller holds the directory's
// lock).
#ifndef WALCACHE_RECOVERY_WAL_CUT_H_
#define WALCACHE_RECOVERY_WAL_CUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "util/file_system.h"
#include "wal/reader.h"
#include "walcache/result.h"

namespace walcache::recovery {

struct CutReport {
  // Bytes after the cut in its segment, up to the last non-zero one (the rest is preallocation),
  // kept aside; bytes of the later segments, moved aside whole.
  uint64_t bytes_saved = 0;
  uint64_t bytes_moved = 0;
  uint64_t segments_moved = 0;     // later segments renamed aside
  std::vector<std::string> saved;  // paths of the files that now hold what was cut
};

// Cuts the WAL at tail.valid_end of tail.file, for a tail that is torn or corrupt (Clean: OK,
// nothing done). Steps, each durable before the next: (1) the bytes of tail.file from valid_end
// to KeptEnd are copied to "<file>.cut-<valid_end>"; (2) every segment after
// tail.file (from `segments`) is renamed to "<segment>.cut"; (3) tail.file is truncated to
// valid_end (deleted if valid_end is 0: its header is not valid, or not the one the witness
// holds); (4) the newest-segment witness (wal/newest.h) is rewritten to name the segment that is
// now the newest, or removed if none remains (the only step when tail.file is empty: the WAL has
// no segment, but a witness names one). Interrupted, the next run finishes the job; an open in
// between refuses while the witness still names what was set aside, or sees at most a torn tail.
// Readers ignore the ".cut" names.
// Where what a cut at tail.valid_end of `file` must keep ends: the last non-zero byte, or the end
// of the last valid record after the damage if that is further (a record may end in zeros).
Result<uint64_t> KeptEnd(const ReadableFile* file, uint64_t file_size, const wal::TailReport& tail);

Result<CutReport> CutWal(FileSystem* fs, const std::string& wal_dir, const wal::TailReport& tail,
                         const std::vector<wal::SegmentSummary>& segments);

// Where the log may start again after damage whose records a checkpoint already holds: the first
// valid record after the damage in tail.file. found is false unless tail is corrupt at a record
// that does not read valid (damage, not a sequence break) in a segment with a valid header, and a
// valid record of that segment with a later seq follows it.
struct FrontCutPoint {
  bool found = false;
  uint64_t offset = 0;  // where that record starts in tail.file
  uint64_t seq = 0;     // its seq: the damaged records are tail.last_seq + 1 .. seq - 1
};
Result<FrontCutPoint> FindFrontCutPoint(FileSystem* fs, const wal::TailReport& tail);

// Cuts the front of the WAL instead of its end, for damage before `at` whose records are all at or
// below the checkpoint (the caller checks at.seq <= checkpoint_seq + 1): nothing the checkpoint
// lacks is cut, and the log keeps every record from at.seq on. Steps, each durable before the
// next: (1) tail.file's bytes before at.offset are copied to "<file>.cut-before-<offset>"; (2)
// every earlier segment (from `segments`; all their records precede the damage) is renamed to
// "<segment>.cut"; (3) if the witness names tail.file, it is removed; (4) tail.file is replaced
// (a new file, preallocated to its size, renamed over it) by its own header with first seq
// at.seq, followed by its bytes from at.offset on (records name their segment, not their
// offset, so they move unchanged); (5) the witness removed in (3) is written again naming the new
// header. Interrupted before (4), the next run finds the same damage; after it, a directory that
// opens, at worst without a witness until the next segment is created (a directory without one is
// read as before, docs/wal-format.md).
Result<CutReport> CutWalFront(FileSystem* fs, const std::string& wal_dir,
                              const wal::TailReport& tail,
                              const std::vector<wal::SegmentSummary>& segments,
                              const FrontCutPoint& at);

}  // namespace walcache::recovery

#endif  // WALCACHE_RECOVERY_WAL_CUT_H_
