// WAL replay (see replay.h).
#include "recovery/replay.h"

#include <chrono>
#include <cstdio>

#include "recovery/tail_repair.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"

namespace walcache::recovery {

std::string ReplayReport::ToString() const {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "replayed %llu records (%.2f MiB) from %llu segments in %.3f s",
                static_cast<unsigned long long>(records_applied),
                static_cast<double>(bytes_applied) / (1 << 20),
                static_cast<unsigned long long>(segments - segments_skipped), seconds);
  std::string out = buf;
  out += "; last seq " + std::to_string(last_seq) + "; tail " +
         std::string(wal::TailStateName(tail.state));
  if (tail.state == wal::TailState::kTorn) {
    out += ": " + std::to_string(tail.dropped_bytes) + " bytes dropped at " + tail.file +
           " offset " + std::to_string(tail.valid_end) +
           (tail_repaired ? " (repaired)" : " (not repaired)");
  } else if (tail.state == wal::TailState::kCorrupt) {
    out += ": " + tail.detail;
  }
  return out;
}

Result<ReplayReport> Replay(FileSystem* fs, const std::string& wal_dir, ReplaySink* sink,
                            const ReplayOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  wal::ReaderOptions ro;
  ro.from_seq = options.from_seq;
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<wal::Reader> reader,
                            wal::Reader::Open(fs, wal_dir, ro));
  ReplayReport report;
  wal::WalRecord rec;
  while (true) {
    WALCACHE_ASSIGN_OR_RETURN(bool more, reader->Next(&rec));
    if (!more) break;
    Result<wal::Batch> batch = wal::Batch::Decode(rec.batch);
    if (!batch.ok()) {
      return batch.status().WithContext(rec.file + " at offset " + std::to_string(rec.offset) +
                                        " (seq " + std::to_string(rec.seq) + ")");
    }
    WALCACHE_RETURN_IF_ERROR(
        sink->Apply(rec.seq, *batch).WithContext("replaying seq " + std::to_string(rec.seq)));
    WALCACHE_KILL_POINT(kRecoveryReplay);
    if (report.records_applied == 0) report.first_applied_seq = rec.seq;
    ++report.records_applied;
    report.bytes_applied += wal::kRecordHeaderSize + rec.stored_bytes;
  }
  report.tail = reader->tail();
  report.last_seq = report.tail.last_seq;
  for (const wal::SegmentSummary& s : reader->segments()) {
    ++report.segments;
    if (s.skipped) ++report.segments_skipped;
    report.records_read += s.records;
  }
  // A torn tail, or a newest segment whose header was never written (a clean end, but in the way
  // of the next segment: RepairTornTail deletes it).
  const bool headerless = !report.tail.file.empty() && report.tail.valid_end == 0;
  if (options.repair_tail && (report.tail.state == wal::TailState::kTorn || headerless) &&
      !BugInjected(InjectedBug::kIgnoreTornTail) &&
      !BugInjected(InjectedBug::kResumeAfterTornTail)) {
    WALCACHE_KILL_POINT(kRecoveryBeforeTailRepair);
    WALCACHE_RETURN_IF_ERROR(RepairTornTail(fs, wal_dir, report.tail));
    report.tail_repaired = true;
  } else if (options.repair_tail && !reader->segments().empty()) {
    // The last process may have died with buffered records in the page cache only. They are now
    // recovered, visible and built upon, so make them durable before anything else is written:
    // otherwise a later power loss takes back what readers saw and leaves a gap before the next
    // segment. Older segments were synced when the writer rotated past them.
    WALCACHE_RETURN_IF_ERROR(SyncSegment(fs, reader->segments().back().path));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace walcache::recovery
