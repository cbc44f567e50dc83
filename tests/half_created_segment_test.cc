// A segment that a crash left inside CreateSegment — its header written and synced, the directory
// not yet synced, the witness still naming the segment before it — ends the log cleanly just past
// its header, so the next open continues it. Its name is not durable yet: a writer that puts
// records into it before syncing the directory lets a power loss take the segment and every
// synced record in it. The crash test found this as a checkpoint in RocksDB ahead of the WAL
// (docs/hardening.md). With the planted bug resume-half-created-segment the writer does not
// finish the creation, and the records are lost: the check below can fail.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checker/power_loss_file_system.h"
#include "recovery/replay.h"
#include "tests/test_util.h"
#include "util/injected_bug.h"
#include "wal/format.h"
#include "wal/newest.h"
#include "wal/segment.h"
#include "wal/writer.h"

namespace walcache {
namespace {

class SeqSink : public recovery::ReplaySink {
 public:
  Status Apply(uint64_t seq, const wal::Batch&) override {
    seqs.push_back(seq);
    return Status::OK();
  }
  std::vector<uint64_t> seqs;
};

std::string Record(int i) {
  wal::Batch b;
  b.Put("k" + std::to_string(i), "v" + std::to_string(i));
  return b.Encode();
}

constexpr uint64_t kSegmentSize = 1 << 16;

TEST(HalfCreatedSegmentTest, AContinuedSegmentKeepsItsSyncedRecordsThroughAPowerLoss) {
  for (const bool planted : {false, true}) {
    SCOPED_TRACE(planted ? "planted resume-half-created-segment" : "as built");
    test::ScratchDir dir;
    const std::string wal_dir = dir.Join("wal");
    wal::WriterOptions wo;
    wo.segment_size = kSegmentSize;
    wo.sync_interval = std::chrono::milliseconds(0);
    {  // Segment 1, records 1..5: durable, and named by the witness.
      auto w = wal::Writer::Open(FileSystem::Posix(), wal_dir, wo, 1);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      for (int i = 1; i <= 5; ++i) ASSERT_TRUE((*w)->Append(Record(i), Durability::kSync).ok());
      ASSERT_TRUE((*w)->Close().ok());
    }

    auto ledger = PowerLossLedger::CreatePrivate(dir.path());
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    PowerLossFileSystem plfs(FileSystem::Posix(), ledger->get());
    // What CreateSegment(2) had done when a crash came at wal.segment_header_synced: everything
    // before the directory's sync.
    const std::string seg2 = JoinPath(wal_dir, wal::SegmentFileName(2));
    {
      auto f = plfs.OpenWritable(seg2, OpenMode::kCreateNew);
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      ASSERT_TRUE((*f)->Allocate(0, kSegmentSize).ok());
      ASSERT_TRUE((*f)->Write(0, wal::EncodeSegmentHeader(2, 6)).ok());
      ASSERT_TRUE((*f)->Sync().ok());
      ASSERT_TRUE((*f)->Close().ok());
    }

    // The next open: replay ends cleanly just past segment 2's header, and the writer continues
    // it there (as engine/open.cc's ResumePoint decides).
    SeqSink replayed;
    auto r = recovery::Replay(&plfs, wal_dir, &replayed);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->tail.segment, 2u);
    ASSERT_EQ(r->tail.valid_end, wal::kSegmentHeaderSize);
    ASSERT_EQ(r->last_seq, 5u);
    if (planted) {
      ASSERT_TRUE(InjectBug("resume-half-created-segment").ok());
    }
    auto w = wal::Writer::Open(&plfs, wal_dir, wo, 6, wal::SegmentEnd{2, seg2, r->tail.valid_end});
    ASSERT_TRUE(InjectBug("").ok());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_EQ((*w)->stats().segments_resumed, 1u);
    for (int i = 6; i <= 8; ++i) ASSERT_TRUE((*w)->Append(Record(i), Durability::kSync).ok());
    if (!planted) {
      // The witness names the segment the records are in.
      auto witness = wal::ReadNewest(FileSystem::Posix(), wal_dir);
      ASSERT_TRUE(witness.ok()) << witness.status().ToString();
      EXPECT_EQ(witness->header.number, 2u);
    }

    (*ledger)->PowerLoss(PowerLossTear::kDrop, 1);
    w->reset();  // its close fails: the power is gone

    SeqSink after;
    auto r2 = recovery::Replay(FileSystem::Posix(), wal_dir, &after);
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
    if (planted) {
      // Segment 2 went with its directory entry, and acknowledged records 6..8 with it.
      EXPECT_EQ(r2->last_seq, 5u);
    } else {
      EXPECT_EQ(after.seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
    }
  }
}

}  // namespace
}  // namespace walcache
