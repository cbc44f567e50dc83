// DIR/wal/NEWEST, the newest-segment witness: a copy of the header of the newest segment whose
// header is durable (docs/wal-format.md, "The newest-segment witness"). A segment's own bytes
// cannot tell its loss from a crash while it was being created: without a witness, a newest
// segment that is deleted, emptied, zeroed or garbled takes its acknowledged records with it
// silently. CreateSegment writes the witness after the segment's header and directory entry are
// durable, and before any record goes into it, so:
//   - every segment that holds a record is at or before the one NEWEST names;
//   - the segment NEWEST names exists and starts with exactly the bytes NEWEST holds.
// The reader checks the second where reading ends: a named segment that is missing (and no newer
// one is there), headerless, or has another header is Corruption. The first is why a newest
// segment the witness does not name may still be read as a crash inside CreateSegment; the
// reader does not refuse records in a segment newer than the witness (a checkpoint may have
// deleted the named one since, under a live reader or an older build). A directory without
// NEWEST (older builds, or a crash before the first segment's witness was written) is read as
// before.
//
// Thread-safety: plain functions; the caller serializes writers of one WAL directory.
#ifndef WALCACHE_WAL_NEWEST_H_
#define WALCACHE_WAL_NEWEST_H_

#include <string>
#include <string_view>

#include "util/file_system.h"
#include "wal/segment.h"
#include "walcache/result.h"

namespace walcache::wal {

inline constexpr char kNewestFileName[] = "NEWEST";

struct NewestWitness {
  std::string path;   // DIR/wal/NEWEST
  std::string bytes;  // the header, kSegmentHeaderSize bytes
  SegmentHeader header;
};

// The witness of `wal_dir`: NotFound if there is none; Corruption naming the file if it is not
// exactly one valid segment header; NotSupported for a newer format; an I/O error as such.
Result<NewestWitness> ReadNewest(FileSystem* fs, const std::string& wal_dir);

// Replaces the witness with `header_bytes` (a segment's first kSegmentHeaderSize bytes),
// atomically and durably.
Status WriteNewest(FileSystem* fs, const std::string& wal_dir, std::string_view header_bytes);

// Removes the witness (and the directory entry, durably); OK if there was none.
Status RemoveNewest(FileSystem* fs, const std::string& wal_dir);

// The first kSegmentHeaderSize bytes of the segment at `path`, checked: Corruption if they are
// not a valid header. Fills *decoded, if given, with what they say.
Result<std::string> ReadSegmentHeaderBytes(FileSystem* fs, const std::string& path,
                                           SegmentHeader* decoded = nullptr);

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_NEWEST_H_
