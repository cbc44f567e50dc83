// recovery/: replay hands every record after a checkpoint to the sink in order, reports what it
// read, repairs a torn tail so the log can grow again, and refuses (changing nothing) when the
// log is corrupt in the middle.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "checker/power_loss_file_system.h"
#include "recovery/replay.h"
#include "recovery/tail_repair.h"
#include "recovery/wal_cut.h"
#include "tests/fault_file_system.h"
#include "tests/test_util.h"
#include "wal/newest.h"
#include "wal/writer.h"

namespace walcache::recovery {
namespace {

// Applies puts and deletes to a map, remembering the seqs it saw.
class MapSink : public ReplaySink {
 public:
  Status Apply(uint64_t seq, const wal::Batch& batch) override {
    if (fail_at_ == seq) return Status::Aborted("sink refused seq " + std::to_string(seq));
    seqs.push_back(seq);
    for (const wal::Op& op : batch.ops()) {
      if (op.type == wal::OpType::kPut) {
        state[op.key] = op.value;
      } else {
        state.erase(op.key);
      }
    }
    return Status::OK();
  }
  void FailAt(uint64_t seq) { fail_at_ = seq; }

  std::vector<uint64_t> seqs;
  std::map<std::string, std::string> state;

 private:
  uint64_t fail_at_ = 0;
};

class ReplayTest : public ::testing::Test {
 protected:
  std::string wal_dir() const { return dir_.Join("wal"); }

  // Appends puts k<i> = v<i> for i in [first, first + n) with the given next_seq, in a new
  // segment or continuing `resume`.
  void Append(uint64_t next_seq, int first, int n, uint64_t segment_size = 1 << 20,
              std::optional<wal::SegmentEnd> resume = std::nullopt) {
    wal::WriterOptions o;
    o.segment_size = segment_size;
    o.sync_interval = std::chrono::milliseconds(0);
    auto w = wal::Writer::Open(FileSystem::Posix(), wal_dir(), o, next_seq, resume);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (int i = first; i < first + n; ++i) {
      wal::Batch b;
      b.Put("k" + std::to_string(i), "v" + std::to_string(i));
      if (i % 5 == 4) b.Delete("k" + std::to_string(i - 1));
      ASSERT_TRUE((*w)->Append(b.Encode(), Durability::kSync).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }

  // Where valid data ends in the newest segment, read without repairing anything.
  uint64_t ValidEnd() {
    MapSink probe;
    ReplayOptions look;
    look.repair_tail = false;
    auto r = Replay(FileSystem::Posix(), wal_dir(), &probe, look);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->tail.valid_end : 0;
  }

  test::ScratchDir dir_;
};

TEST_F(ReplayTest, AppliesEveryRecordFromFromSeqInOrderAndReports) {
  Append(1, 0, 50, 512);
  MapSink sink;
  ReplayOptions opts;
  opts.from_seq = 21;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(sink.seqs.size(), 30u);
  for (size_t i = 0; i < sink.seqs.size(); ++i) EXPECT_EQ(sink.seqs[i], 21 + i);
  EXPECT_EQ(r->records_applied, 30u);
  EXPECT_EQ(r->first_applied_seq, 21u);
  EXPECT_EQ(r->last_seq, 50u);
  EXPECT_GT(r->segments, 2u);
  EXPECT_GT(r->segments_skipped, 0u);
  EXPECT_EQ(r->tail.state, wal::TailState::kClean);
  EXPECT_FALSE(r->tail_repaired);
  EXPECT_NE(r->ToString().find("replayed 30 records"), std::string::npos) << r->ToString();
}

TEST_F(ReplayTest, TornTailIsRepairedAndTheLogGrowsCleanlyAfterIt) {
  Append(1, 0, 10);
  const std::string seg = test::SegmentPaths(wal_dir()).back();
  // A crash mid-append: half a record of garbage after the last valid one.
  const uint64_t end = ValidEnd();
  test::Overwrite(seg, end, std::string("\x13\x37garbage-of-a-torn-record", 26));

  MapSink sink;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tail.state, wal::TailState::kTorn);
  EXPECT_EQ(r->tail.dropped_bytes, 26u);
  EXPECT_TRUE(r->tail_repaired);
  EXPECT_EQ(sink.seqs.size(), 10u);
  EXPECT_EQ(test::FileSize(seg), end) << "repair truncates to the last valid record";
  EXPECT_NE(r->ToString().find("26 bytes dropped"), std::string::npos) << r->ToString();

  // The next writer appends after the repaired tail; everything reads back, nothing is corrupt.
  Append(11, 10, 5);
  MapSink again;
  auto r2 = Replay(FileSystem::Posix(), wal_dir(), &again);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->tail.state, wal::TailState::kClean);
  EXPECT_EQ(again.seqs.size(), 15u);
}

// The newest segment continued after a torn tail, with power lost at each step (after the
// repair; after the writer reserved the segment again; after synced records; after unsynced
// ones), under every tear: the repair's truncate is durable before anything is appended, so the
// next replay never finds the torn bytes (or zeros) between old and new records. It reads every
// synced record, ends clean or torn, and the segment can be continued again.
TEST_F(ReplayTest, AContinuedSegmentRecoversAfterPowerLossAtEveryStep) {
  using Tear = PowerLossTear;
  for (Tear tear : {Tear::kDrop, Tear::kSector, Tear::kGarbage, Tear::kPayload}) {
    for (int step = 0; step < 4; ++step) {
      SCOPED_TRACE("tear " + std::to_string(static_cast<int>(tear)) + " step " +
                   std::to_string(step));
      std::filesystem::remove_all(wal_dir());
      Append(1, 0, 10);
      const std::string seg = test::SegmentPaths(wal_dir()).back();
      test::Overwrite(seg, ValidEnd(), std::string(700, '\x5a'));  // durable junk

      auto ledger = PowerLossLedger::CreatePrivate(dir_.path());
      ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
      PowerLossFileSystem plfs(FileSystem::Posix(), ledger->get());
      MapSink first;
      auto r = Replay(&plfs, wal_dir(), &first);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_TRUE(r->tail_repaired);
      uint64_t synced = 10;
      {
        std::unique_ptr<wal::Writer> w;
        if (step >= 1) {
          wal::WriterOptions o;
          o.sync_interval = std::chrono::milliseconds(0);
          auto opened = wal::Writer::Open(&plfs, wal_dir(), o, 11,
                                          wal::SegmentEnd{r->tail.segment, seg, r->tail.valid_end});
          ASSERT_TRUE(opened.ok()) << opened.status().ToString();
          w = std::move(opened).value();
          ASSERT_EQ(w->stats().segments_resumed, 1u);
        }
        for (int i = 0; step >= 2 && i < 3; ++i) {
          wal::Batch b;
          b.Put("s" + std::to_string(i), std::string(300, 's'));
          ASSERT_TRUE(w->Append(b.Encode(), Durability::kSync).ok());
          ++synced;
        }
        for (int i = 0; step >= 3 && i < 2; ++i) {
          wal::Batch b;
          b.Put("b" + std::to_string(i), std::string(300, 'b'));
          ASSERT_TRUE(w->Append(b.Encode(), Durability::kBuffered).ok());
        }
        (*ledger)->PowerLoss(tear, 7 + step);
      }  // the writer's close fails: the power is gone
      MapSink after;
      auto r2 = Replay(FileSystem::Posix(), wal_dir(), &after);
      ASSERT_TRUE(r2.ok()) << r2.status().ToString();
      EXPECT_NE(r2->tail.state, wal::TailState::kCorrupt);
      ASSERT_GE(after.seqs.size(), synced);
      for (size_t i = 0; i < after.seqs.size(); ++i) EXPECT_EQ(after.seqs[i], i + 1);
      Append(after.seqs.size() + 1, 100, 2, 1 << 20,
             wal::SegmentEnd{r2->tail.segment, seg, r2->tail.valid_end});
      EXPECT_EQ(test::SegmentPaths(wal_dir()).size(), 1u);
      MapSink last;
      auto r3 = Replay(FileSystem::Posix(), wal_dir(), &last);
      ASSERT_TRUE(r3.ok()) << r3.status().ToString();
      EXPECT_EQ(last.seqs.size(), after.seqs.size() + 2);
      EXPECT_EQ(r3->tail.state, wal::TailState::kClean);
    }
  }
}

TEST_F(ReplayTest, WithoutTailRepairNothingChanges) {
  Append(1, 0, 3);
  const std::string seg = test::SegmentPaths(wal_dir()).back();
  test::Overwrite(seg, 36 + 3 * 60, "junk");
  const std::string bytes = test::ReadFile(seg);
  MapSink sink;
  ReplayOptions opts;
  opts.repair_tail = false;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->tail_repaired);
  EXPECT_EQ(test::ReadFile(seg), bytes);
}

TEST_F(ReplayTest, SegmentWhoseHeaderNeverBecameDurableIsDeleted) {
  Append(1, 0, 4);
  // A crash during segment creation: the next segment exists, preallocated, with no header.
  const std::string torn = wal_dir() + "/000002.wal";
  test::WriteFile(torn, std::string(4096, '\0'));
  test::Overwrite(torn, 0, "WALC");  // the header write got only 4 bytes to disk
  MapSink sink;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tail.state, wal::TailState::kTorn);
  EXPECT_TRUE(r->tail_repaired);
  EXPECT_EQ(sink.seqs.size(), 4u);
  EXPECT_EQ(test::SegmentPaths(wal_dir()).size(), 1u);
  Append(5, 4, 2);
  MapSink again;
  ASSERT_TRUE(Replay(FileSystem::Posix(), wal_dir(), &again).ok());
  EXPECT_EQ(again.seqs.size(), 6u);
}

// Created, then a crash before any header byte reached the disk: empty, or preallocated zeros.
// The tail is clean, but the segment must go, or the next writer starts the segment after it and
// the next replay finds a segment without a header in the middle of the log.
TEST_F(ReplayTest, SegmentCreatedButNeverWrittenIsDeletedSoTheLogCanGrowPastIt) {
  for (const std::string& bytes : {std::string(), std::string(4096, '\0')}) {
    SCOPED_TRACE(bytes.size());
    std::filesystem::remove_all(wal_dir());
    Append(1, 0, 4);
    test::WriteFile(wal_dir() + "/000002.wal", bytes);
    MapSink sink;
    auto r = Replay(FileSystem::Posix(), wal_dir(), &sink);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->tail.state, wal::TailState::kClean);
    EXPECT_TRUE(r->tail_repaired);
    EXPECT_EQ(test::SegmentPaths(wal_dir()).size(), 1u);
    Append(5, 4, 2);
    MapSink again;
    auto r2 = Replay(FileSystem::Posix(), wal_dir(), &again);
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
    EXPECT_EQ(again.seqs.size(), 6u);
  }
}

TEST_F(ReplayTest, CorruptionInTheMiddleRefusesAndRepairsNothing) {
  Append(1, 0, 10);
  const std::string seg = test::SegmentPaths(wal_dir()).back();
  test::FlipBit(seg, 36 + 30, 2);  // inside the first record's payload or header
  const std::string bytes = test::ReadFile(seg);
  MapSink sink;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(seg), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("offset 36"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(test::ReadFile(seg), bytes);
  EXPECT_TRUE(sink.seqs.empty());
  EXPECT_TRUE(RepairTornTail(FileSystem::Posix(), wal_dir(),
                             wal::TailReport{.state = wal::TailState::kCorrupt, .file = seg})
                  .IsInvalidArgument());
}

// The front cut of `walcache repair` (damage whose records a checkpoint holds): the damaged
// segment starts again at the record after the damage, earlier segments are set aside whole, the
// cut bytes are kept, the witness names the new header, and the log reads clean from there.
TEST_F(ReplayTest, AFrontCutStartsTheLogAtTheRecordAfterTheDamage) {
  Append(1, 0, 40, 512);
  const std::vector<std::string> before = test::SegmentPaths(wal_dir());
  ASSERT_GE(before.size(), 3u);
  const std::string last = before.back();
  const std::string original = test::ReadFile(last);
  test::FlipBit(last, 36 + 26 + 2, 1);  // the payload of the newest segment's first record
  const std::string damaged = test::ReadFile(last);
  auto reader = wal::Reader::Open(FileSystem::Posix(), wal_dir());
  ASSERT_TRUE(reader.ok());
  wal::WalRecord rec;
  Result<bool> more = true;
  while (more.ok() && *more) more = (*reader)->Next(&rec);
  ASSERT_TRUE(more.status().IsCorruption()) << more.status().ToString();
  const wal::TailReport tail = (*reader)->tail();
  const std::vector<wal::SegmentSummary> segments = (*reader)->segments();
  ASSERT_EQ(tail.file, last);
  auto at = FindFrontCutPoint(FileSystem::Posix(), tail);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  ASSERT_TRUE(at->found);
  EXPECT_EQ(at->seq, tail.last_seq + 2) << "one damaged record";
  auto cut = CutWalFront(FileSystem::Posix(), wal_dir(), tail, segments, *at);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(cut->segments_moved, before.size() - 1);
  EXPECT_EQ(test::SegmentPaths(wal_dir()), std::vector<std::string>{last});
  for (size_t i = 0; i + 1 < before.size(); ++i) {
    EXPECT_TRUE(std::filesystem::exists(before[i] + ".cut")) << before[i];
  }
  EXPECT_EQ(test::ReadFile(last + ".cut-before-" + std::to_string(at->offset)),
            damaged.substr(0, at->offset))
      << "the cut bytes are kept as they were";
  EXPECT_EQ(test::FileSize(last), original.size()) << "preallocated as before";
  MapSink sink;
  ReplayOptions ro;
  ro.from_seq = at->seq;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink, ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tail.state, wal::TailState::kClean);
  ASSERT_FALSE(sink.seqs.empty());
  EXPECT_EQ(sink.seqs.front(), at->seq);
  EXPECT_EQ(sink.seqs.back(), 40u);
  auto witness = wal::ReadNewest(FileSystem::Posix(), wal_dir());
  ASSERT_TRUE(witness.ok()) << witness.status().ToString();
  EXPECT_EQ(witness->header.first_seq, at->seq);
}

TEST_F(ReplayTest, SinkErrorStopsReplayAndIsReturned) {
  Append(1, 0, 10);
  MapSink sink;
  sink.FailAt(4);
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink);
  ASSERT_TRUE(r.status().IsAborted()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("replaying seq 4"), std::string::npos);
  EXPECT_EQ(sink.seqs, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(ReplayTest, ReplayIsIdempotent) {
  Append(1, 0, 25, 1024);
  MapSink a, b;
  ASSERT_TRUE(Replay(FileSystem::Posix(), wal_dir(), &a).ok());
  ASSERT_TRUE(Replay(FileSystem::Posix(), wal_dir(), &b).ok());
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.seqs, b.seqs);
  EXPECT_FALSE(a.state.count("k3")) << "k3 was deleted by the batch of k4";
  EXPECT_EQ(a.state.at("k24"), "v24");
}

TEST_F(ReplayTest, MissingRecordsBeforeTheWalAreCorruption) {
  Append(100, 0, 3);
  MapSink sink;
  ReplayOptions opts;
  opts.from_seq = 50;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink, opts);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("missing"), std::string::npos);
}

TEST_F(ReplayTest, EmptyOrMissingWalReplaysNothing) {
  MapSink sink;
  auto r = Replay(FileSystem::Posix(), wal_dir(), &sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records_applied, 0u);
  EXPECT_EQ(r->segments, 0u);
  EXPECT_EQ(r->tail.state, wal::TailState::kClean);
}

// A process that died after buffered commits left them in the page cache only. A writable
// recovery makes them durable (the newest segment is fdatasynced) before the cache builds on
// them; a read-only one touches nothing. If that sync fails, the open fails.
TEST_F(ReplayTest, WritableReplaySyncsTheNewestSegmentAndReportsAFailedSync) {
  Append(1, 0, 30, 512);
  const std::string newest = test::SegmentPaths(wal_dir()).back();
  FaultFileSystem faults(FileSystem::Posix());
  MapSink look;
  ReplayOptions ro;
  ro.repair_tail = false;
  ASSERT_TRUE(Replay(&faults, wal_dir(), &look, ro).ok());
  EXPECT_EQ(faults.Calls(FaultOp::kSync), 0u) << "a read-only replay syncs nothing";

  MapSink sink;
  ASSERT_TRUE(Replay(&faults, wal_dir(), &sink).ok());
  EXPECT_EQ(faults.Calls(FaultOp::kSync), 1u) << "exactly the newest segment";

  FaultRule eio;
  eio.op = FaultOp::kSync;
  eio.path_contains = newest.substr(newest.rfind('/') + 1);
  faults.AddRule(eio);
  MapSink failing;
  auto r = Replay(&faults, wal_dir(), &failing);
  ASSERT_TRUE(r.status().IsIOError()) << r.status().ToString();
  EXPECT_EQ(faults.Injected(FaultOp::kSync), 1u);
}

}  // namespace
}  // namespace walcache::recovery
