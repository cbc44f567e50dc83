// Fuzz target: the WAL record reader over a whole segment. The input becomes segment file
// 000001.wal of a scratch WAL directory, read to its end with wal::Reader, then checked with the
// tail scan (wal/tail_scan.h) and, if torn, repaired (recovery::RepairTornTail) and read again.
// Properties: errors are values (Corruption or NotSupported) and sticky; records come in sequence
// order, back to back, from inside the file, each one a valid record to the tail scan; where
// reading ends without error the tail accounting matches the bytes (a clean end has only zeros
// or stale records after it, a torn one exactly `dropped_bytes` non-zero bytes, and no valid
// record of the segment follows either); and repairing a torn tail keeps every record and leaves
// a clean end.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "recovery/tail_repair.h"
#include "util/file_system.h"
#include "wal/batch.h"
#include "wal/format.h"
#include "wal/reader.h"
#include "wal/segment.h"
#include "wal/tail_scan.h"

namespace walcache::fuzz {
namespace {

constexpr uint64_t kSegment = 1;

struct Pass {
  Status status;  // OK if reading ended with false
  std::vector<wal::WalRecord> records;
  wal::TailReport tail;
};

Pass ReadAll(const std::string& wal_dir) {
  Pass p;
  auto reader = wal::Reader::Open(FileSystem::Posix(), wal_dir);
  FUZZ_CHECK(reader.ok(), "Reader::Open: " + reader.status().ToString());
  while (true) {
    wal::WalRecord rec;
    Result<bool> more = (*reader)->Next(&rec);
    if (!more.ok()) {
      p.status = more.status();
      Result<bool> again = (*reader)->Next(&rec);
      FUZZ_CHECK(!again.ok() && again.status().ToString() == p.status.ToString(),
                 "the error is not sticky: " + p.status.ToString());
      break;
    }
    if (!*more) break;
    p.records.push_back(std::move(rec));
  }
  p.tail = (*reader)->tail();
  return p;
}

void CheckRecords(const Pass& p, wal::SegmentView* view) {
  for (size_t i = 0; i < p.records.size(); ++i) {
    const wal::WalRecord& r = p.records[i];
    const uint64_t end = r.offset + wal::kRecordHeaderSize + r.stored_bytes;
    FUZZ_CHECK(r.segment == kSegment && r.offset >= wal::kSegmentHeaderSize && end <= view->size(),
               "record " + std::to_string(i) + " lies outside the segment");
    if (i > 0) {
      const wal::WalRecord& prev = p.records[i - 1];
      FUZZ_CHECK(r.seq == prev.seq + 1, "records out of sequence");
      FUZZ_CHECK(r.offset == prev.offset + wal::kRecordHeaderSize + prev.stored_bytes,
                 "records are not back to back");
    }
    wal::RecordHeader h;
    std::string_view payload;
    Result<wal::ProbeResult> probe = wal::ProbeRecord(view, r.offset, kSegment, &h, &payload);
    FUZZ_CHECK(probe.ok() && *probe == wal::ProbeResult::kValid && h.seq == r.seq,
               "the tail scan does not see record " + std::to_string(i) + " as valid");
    (void)wal::Batch::Decode(r.batch);  // what replay does next: any outcome but a crash
  }
}

// Reading ended without error: the tail report must account for the bytes after valid data.
void CheckTail(const Pass& p, wal::SegmentView* view) {
  const wal::TailReport& t = p.tail;
  FUZZ_CHECK(t.state == wal::TailState::kClean || t.state == wal::TailState::kTorn,
             "reading ended without error at a corrupt tail");
  FUZZ_CHECK(t.valid_end <= view->size(), "valid_end lies past the end of the file");
  if (!p.records.empty()) {
    const wal::WalRecord& last = p.records.back();
    FUZZ_CHECK(t.valid_end == last.offset + wal::kRecordHeaderSize + last.stored_bytes &&
                   t.last_seq == last.seq,
               "the tail does not start after the last record");
  }
  Result<uint64_t> nz = wal::NonZeroEnd(view, t.valid_end);
  FUZZ_CHECK(nz.ok(), "NonZeroEnd: " + nz.status().ToString());
  if (t.state == wal::TailState::kTorn) {
    FUZZ_CHECK(*nz == t.valid_end + t.dropped_bytes && t.dropped_bytes > 0,
               "a torn tail's dropped_bytes (" + std::to_string(t.dropped_bytes) +
                   ") are not the non-zero bytes after valid data");
  } else if (t.stale_bytes == 0) {
    FUZZ_CHECK(*nz == t.valid_end, "a clean end with non-zero bytes after it");
  }
  if (t.valid_end >= wal::kSegmentHeaderSize) {  // a readable header: records could follow
    Result<wal::ResyncResult> after = wal::FindValidRecordAfter(
        view, t.valid_end, kSegment, t.last_seq + 1, std::numeric_limits<uint64_t>::max() / 2);
    FUZZ_CHECK(after.ok() && !after->found, "valid record after the end of valid data at offset " +
                                                std::to_string(after.ok() ? after->offset : 0));
  }
}

void CheckRepair(const Pass& before, const std::string& wal_dir) {
  Status s = recovery::RepairTornTail(FileSystem::Posix(), wal_dir, before.tail);
  FUZZ_CHECK(s.ok(), "RepairTornTail: " + s.ToString());
  const Pass after = ReadAll(wal_dir);
  FUZZ_CHECK(after.status.ok(), "a repaired WAL does not read: " + after.status.ToString());
  FUZZ_CHECK(after.tail.state == wal::TailState::kClean, "a repaired WAL has a torn tail");
  FUZZ_CHECK(after.records.size() == before.records.size(), "repair changed the record count");
  for (size_t i = 0; i < after.records.size(); ++i) {
    FUZZ_CHECK(after.records[i].seq == before.records[i].seq &&
                   after.records[i].offset == before.records[i].offset &&
                   after.records[i].batch == before.records[i].batch,
               "repair changed record " + std::to_string(i));
  }
}

void FuzzOne(std::string_view input) {
  const std::string wal_dir = FreshScratchPath("wal");
  const std::string path = JoinPath(wal_dir, wal::SegmentFileName(kSegment));
  Status s = FileSystem::Posix()->CreateDir(wal_dir);
  FUZZ_CHECK(s.ok(), "scratch: " + s.ToString());
  WriteWholeFile(path, input);

  const Pass pass = ReadAll(wal_dir);
  if (!pass.status.ok()) {
    FUZZ_CHECK(pass.status.IsCorruption() || pass.status.IsNotSupported(),
               "read error: " + pass.status.ToString());
    FUZZ_CHECK(!pass.status.IsCorruption() || pass.tail.state == wal::TailState::kCorrupt,
               "Corruption without a corrupt tail");
  }
  auto file = FileSystem::Posix()->OpenReadable(path);
  FUZZ_CHECK(file.ok(), "scratch: " + file.status().ToString());
  wal::SegmentView view(file->get(), input.size());
  CheckRecords(pass, &view);
  if (!pass.status.ok()) return;
  CheckTail(pass, &view);
  if (pass.tail.state == wal::TailState::kTorn) CheckRepair(pass, wal_dir);
}

}  // namespace
}  // namespace walcache::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  walcache::fuzz::FuzzOne(walcache::fuzz::AsBytes(data, size));
  return 0;
}
