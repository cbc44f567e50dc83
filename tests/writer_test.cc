// wal/writer: dense sequence numbers, group commit under concurrency, both durability modes,
// rotation, and failure that is final: an injected I/O error fails every waiter and every later
// append, and nothing acknowledged is lost.
#include "wal/writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "tests/fault_file_system.h"
#include "tests/test_util.h"
#include "wal/batch.h"
#include "wal/reader.h"
#include "wal/segment.h"

namespace walcache::wal {
namespace {

std::string OneKeyBatch(const std::string& key, size_t value_size = 10) {
  Batch b;
  b.Put(key, std::string(value_size, 'v'));
  return b.Encode();
}

// Reads the whole WAL; fails the test on a read error.
std::vector<WalRecord> ReadAll(const std::string& wal_dir, TailReport* tail = nullptr) {
  std::vector<WalRecord> out;
  auto reader = Reader::Open(FileSystem::Posix(), wal_dir);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return out;
  WalRecord rec;
  while (true) {
    auto more = (*reader)->Next(&rec);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.push_back(rec);
  }
  if (tail != nullptr) *tail = (*reader)->tail();
  return out;
}

std::string KeyOf(const WalRecord& rec) {
  auto b = Batch::Decode(rec.batch);
  EXPECT_TRUE(b.ok());
  return b.ok() && !b->empty() ? b->ops()[0].key : "";
}

class WriterTest : public ::testing::Test {
 protected:
  WriterOptions Options() {
    WriterOptions o;
    o.segment_size = 1 << 20;
    o.sync_interval = std::chrono::milliseconds(0);
    return o;
  }
  std::string wal_dir() const { return dir_.Join("wal"); }

  test::ScratchDir dir_;
};

TEST_F(WriterTest, AppendsGetDenseSequenceNumbersFromNextSeq) {
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 100);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->last_seq(), 99u);
  for (uint64_t i = 0; i < 5; ++i) {
    auto seq = (*w)->Append(OneKeyBatch("k" + std::to_string(i)), Durability::kSync);
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, 100 + i);
    EXPECT_EQ((*w)->durable_seq(), 100 + i);
  }
  ASSERT_TRUE((*w)->Close().ok());
  const auto recs = ReadAll(wal_dir());
  ASSERT_EQ(recs.size(), 5u);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].seq, 100 + i);
    EXPECT_EQ(KeyOf(recs[i]), "k" + std::to_string(i));
  }
}

TEST_F(WriterTest, EightThreadsProduceDenseOrderedSequenceReadBackAfterReopen) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  WriterOptions o = Options();
  o.segment_size = 32 << 10;
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), o, 1);
  ASSERT_TRUE(w.ok());
  std::vector<std::vector<uint64_t>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const Durability d = (i % 3 == 0) ? Durability::kBuffered : Durability::kSync;
        auto seq =
            (*w)->Append(OneKeyBatch(std::to_string(t) + ":" + std::to_string(i), i % 50), d);
        ASSERT_TRUE(seq.ok()) << seq.status().ToString();
        acked[t].push_back(*seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  const WriterStats stats = (*w)->stats();
  EXPECT_EQ(stats.records, uint64_t{kThreads * kPerThread});
  EXPECT_GT(stats.segments_created, 1u) << "32 KiB segments should have rotated";
  ASSERT_TRUE((*w)->Close().ok());

  TailReport tail;
  const auto recs = ReadAll(wal_dir(), &tail);
  ASSERT_EQ(recs.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(tail.state, TailState::kClean);
  std::map<uint64_t, std::string> by_seq;
  for (size_t i = 0; i < recs.size(); ++i) {
    ASSERT_EQ(recs[i].seq, i + 1) << "dense and ordered";
    by_seq[recs[i].seq] = KeyOf(recs[i]);
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      // Each acknowledged seq holds exactly the batch its thread appended, and a thread's seqs
      // increase in the order it appended.
      EXPECT_EQ(by_seq[acked[t][i]], std::to_string(t) + ":" + std::to_string(i));
      if (i > 0) {
        EXPECT_GT(acked[t][i], acked[t][i - 1]);
      }
    }
  }
}

TEST_F(WriterTest, BufferedAppendsBecomeDurableThroughFlusherAndSync) {
  WriterOptions o = Options();
  o.sync_interval = std::chrono::milliseconds(5);
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), o, 1);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE((*w)->Append(OneKeyBatch("b"), Durability::kBuffered).ok());
  EXPECT_EQ((*w)->last_seq(), 10u);
  for (int i = 0; i < 500 && (*w)->durable_seq() < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ((*w)->durable_seq(), 10u) << "the flusher syncs within a few intervals";

  ASSERT_TRUE((*w)->Append(OneKeyBatch("c"), Durability::kBuffered).ok());
  ASSERT_TRUE((*w)->Sync().ok());
  EXPECT_EQ((*w)->durable_seq(), 11u);
  // A kSync append also makes the buffered records before it durable.
  ASSERT_TRUE((*w)->Append(OneKeyBatch("d"), Durability::kBuffered).ok());
  ASSERT_TRUE((*w)->Append(OneKeyBatch("e"), Durability::kSync).ok());
  EXPECT_EQ((*w)->durable_seq(), 13u);
}

TEST_F(WriterTest, RotationStartsNumberedSegmentsWithMatchingFirstSeq) {
  WriterOptions o = Options();
  o.segment_size = 4096;
  o.compression.enabled = false;
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), o, 1);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE((*w)->Append(OneKeyBatch("k" + std::to_string(i), 500), Durability::kSync).ok());
  }
  // A record larger than a whole segment still goes in (alone in a segment that grows).
  ASSERT_TRUE((*w)->Append(OneKeyBatch("huge", 10000), Durability::kSync).ok());
  ASSERT_TRUE((*w)->Append(OneKeyBatch("after"), Durability::kSync).ok());
  ASSERT_TRUE((*w)->Close().ok());

  const auto paths = test::SegmentPaths(wal_dir());
  ASSERT_GT(paths.size(), 5u);
  auto reader = Reader::Open(FileSystem::Posix(), wal_dir());
  ASSERT_TRUE(reader.ok());
  WalRecord rec;
  uint64_t n = 0;
  while (*(*reader)->Next(&rec)) ++n;
  EXPECT_EQ(n, 42u);
  const auto& segs = (*reader)->segments();
  ASSERT_EQ(segs.size(), paths.size());
  uint64_t expect_first = 1;
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].number, i + 1);
    EXPECT_EQ(segs[i].first_seq, expect_first);
    expect_first += segs[i].records;
    if (i + 1 < segs.size()) {
      EXPECT_GE(segs[i].records, 1u);
    }
  }
}

TEST_F(WriterTest, NewWriterUsesSegmentNumberAboveExistingOnes) {
  {
    auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 1);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(OneKeyBatch("a"), Durability::kSync).ok());
  }
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 2);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->active_segment(), 2u);
  ASSERT_TRUE((*w)->Append(OneKeyBatch("b"), Durability::kSync).ok());
  ASSERT_TRUE((*w)->Close().ok());
  const auto recs = ReadAll(wal_dir());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].segment, 2u);
}

// A reopened WAL continues its newest segment at the valid end while it has room, and rotates
// only when the next record does not fit: reopening does not leave one segment per open.
TEST_F(WriterTest, AResumedWriterAppendsAtTheValidEndAndRotatesOnlyWhenFull) {
  WriterOptions o = Options();
  o.segment_size = 4096;
  o.compression.enabled = false;
  uint64_t next = 1;
  for (int open = 0; open < 30; ++open) {
    TailReport tail;
    const auto before = ReadAll(wal_dir(), &tail);
    ASSERT_EQ(before.size(), next - 1);
    std::optional<SegmentEnd> end;
    if (!tail.file.empty()) end = SegmentEnd{tail.segment, tail.file, tail.valid_end};
    auto w = Writer::Open(FileSystem::Posix(), wal_dir(), o, next, end);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    const bool full = end.has_value() && end->valid_end + kRecordHeaderSize > o.segment_size;
    EXPECT_EQ((*w)->stats().segments_resumed, end.has_value() && !full ? 1u : 0u) << open;
    if (end.has_value() && !full) {
      EXPECT_EQ((*w)->active_segment(), end->number);
      EXPECT_EQ(test::FileSize(end->path), o.segment_size) << "still preallocated";
    }
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(
          (*w)->Append(OneKeyBatch(std::to_string(1000 + next), 100), Durability::kSync).ok());
      ++next;
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  TailReport tail;
  const auto recs = ReadAll(wal_dir(), &tail);
  ASSERT_EQ(recs.size(), 60u);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].seq, i + 1);
    EXPECT_EQ(KeyOf(recs[i]), std::to_string(1000 + i + 1));
  }
  EXPECT_EQ(tail.state, TailState::kClean);
  // 60 records of 26 + ~110 bytes need 2 segments of 4 KiB, not one per open (30).
  const size_t per_segment = (4096 - kSegmentHeaderSize) / (recs[1].offset - recs[0].offset);
  EXPECT_EQ(test::SegmentPaths(wal_dir()).size(), (60 + per_segment - 1) / per_segment);
  EXPECT_LE(test::SegmentPaths(wal_dir()).size(), 3u);
}

// After a torn tail's truncation the file is shorter than a segment: resuming reserves the rest
// again, and the next record goes exactly where valid data ended.
TEST_F(WriterTest, ResumingATruncatedSegmentPreallocatesItAgainAndLeavesNoGap) {
  {
    auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 1);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->Append(OneKeyBatch("a"), Durability::kSync).ok());
  }
  TailReport tail;
  ASSERT_EQ(ReadAll(wal_dir(), &tail).size(), 3u);
  const std::string seg = tail.file;
  std::filesystem::resize_file(seg, tail.valid_end);  // what the repair of a torn tail leaves
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 4,
                        SegmentEnd{tail.segment, seg, tail.valid_end});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(test::FileSize(seg), Options().segment_size);
  ASSERT_TRUE((*w)->Append(OneKeyBatch("b"), Durability::kSync).ok());
  ASSERT_TRUE((*w)->Close().ok());
  const auto recs = ReadAll(wal_dir(), &tail);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[3].offset, recs[2].offset + (recs[2].offset - recs[1].offset));
  EXPECT_EQ(test::SegmentPaths(wal_dir()).size(), 1u);
  EXPECT_EQ(tail.state, TailState::kClean);
}

// A SegmentEnd that is not the newest segment, or lies past its file's end, is refused; nothing
// is created or written.
TEST_F(WriterTest, ResumeOfAnOlderSegmentOrPastTheFileIsRefused) {
  WriterOptions o = Options();
  o.segment_size = 1024;
  o.compression.enabled = false;
  {
    auto w = Writer::Open(FileSystem::Posix(), wal_dir(), o, 1);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 12; ++i) {
      ASSERT_TRUE((*w)->Append(OneKeyBatch("k", 200), Durability::kSync).ok());
    }
  }
  const auto paths = test::SegmentPaths(wal_dir());
  ASSERT_GE(paths.size(), 2u);
  std::filesystem::resize_file(paths.back(), 200);  // shorter than the offset given below
  const std::map<std::string, std::string> before = {{paths[0], test::ReadFile(paths[0])},
                                                     {paths.back(), test::ReadFile(paths.back())}};
  auto older = Writer::Open(FileSystem::Posix(), wal_dir(), o, 13, SegmentEnd{1, paths[0], 100});
  EXPECT_TRUE(older.status().IsInvalidArgument()) << older.status().ToString();
  auto past = Writer::Open(FileSystem::Posix(), wal_dir(), o, 13,
                           SegmentEnd{paths.size(), paths.back(), 500});
  EXPECT_TRUE(past.status().IsInvalidArgument()) << past.status().ToString();
  EXPECT_EQ(test::SegmentPaths(wal_dir()), paths);
  for (const auto& [p, bytes] : before) EXPECT_EQ(test::ReadFile(p), bytes) << p;
}

TEST_F(WriterTest, InvalidArgumentsChangeNothing) {
  EXPECT_TRUE(
      Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 0).status().IsInvalidArgument());
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 1);
  ASSERT_TRUE(w.ok());
  PreparedRecord huge;
  huge.raw_size = kMaxRecordPayload + 1;
  EXPECT_TRUE((*w)->Submit(std::move(huge), Durability::kSync).status().IsInvalidArgument());
  EXPECT_TRUE((*w)->health().ok());
  auto seq = (*w)->Append(OneKeyBatch("a"), Durability::kSync);
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 1u) << "a refused record consumes no sequence number";
}

TEST_F(WriterTest, TicketsNeverWaitedOnAreWrittenByClose) {
  auto w = Writer::Open(FileSystem::Posix(), wal_dir(), Options(), 1);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 3; ++i) {
    auto t = (*w)->Submit(OneKeyBatch("t" + std::to_string(i)), Durability::kBuffered);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->seq(), uint64_t(i + 1));
  }
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(ReadAll(wal_dir()).size(), 3u);
  EXPECT_TRUE((*w)->Submit(OneKeyBatch("x"), Durability::kSync).status().IsAborted());
}

class WriterFaultTest : public WriterTest {
 protected:
  FaultFileSystem faults_{FileSystem::Posix()};
};

TEST_F(WriterFaultTest, FailedFdatasyncFailsEveryWaiterAndEveryLaterAppend) {
  WriterOptions o = Options();
  o.max_group_bytes = 1;  // one record a group, so later records are still queued at the fault
  auto w = Writer::Open(&faults_, wal_dir(), o, 1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(OneKeyBatch("durable"), Durability::kSync).ok());
  faults_.AddRule({.op = FaultOp::kSync, .error = Status::IOError("injected", EIO)});

  std::vector<Writer::Ticket> tickets;
  for (int i = 0; i < 4; ++i) {
    auto t = (*w)->Submit(OneKeyBatch("q" + std::to_string(i)), Durability::kSync);
    ASSERT_TRUE(t.ok());
    tickets.push_back(*t);
  }
  for (const auto& t : tickets) {
    const Status s = (*w)->Wait(t);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_EQ(s.sys_errno(), EIO);
  }
  EXPECT_EQ(faults_.Injected(FaultOp::kSync), 1u) << "one failed fdatasync fails them all";
  EXPECT_TRUE((*w)->health().IsIOError());
  EXPECT_EQ((*w)->durable_seq(), 1u);
  const uint64_t syncs = faults_.Calls(FaultOp::kSync);
  faults_.ClearRules();  // the device "recovers": the writer must still not pretend
  const auto later = (*w)->Append(OneKeyBatch("later"), Durability::kBuffered);
  EXPECT_TRUE(later.status().IsIOError()) << later.status().ToString();
  EXPECT_TRUE((*w)->Sync().IsIOError());
  EXPECT_TRUE((*w)->Close().IsIOError());
  EXPECT_EQ(faults_.Calls(FaultOp::kSync), syncs) << "a failed fdatasync is never retried";

  // Reopening finds the acknowledged record; the unacknowledged ones may or may not be there.
  const auto recs = ReadAll(wal_dir());
  ASSERT_GE(recs.size(), 1u);
  EXPECT_EQ(KeyOf(recs[0]), "durable");
}

TEST_F(WriterFaultTest, ConcurrentAppendersAllFailOnWriteErrorAndAckedRecordsSurvive) {
  auto w = Writer::Open(&faults_, wal_dir(), Options(), 1);
  ASSERT_TRUE(w.ok());
  // Let a few hundred writes through, then fail every write.
  faults_.AddRule({.op = FaultOp::kWrite,
                   .error = Status::IOError("injected", EIO),
                   .path_contains = ".wal",
                   .skip = 300});
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      bool failed = false;
      for (int i = 0; !stop && i < 10000; ++i) {
        const std::string key = std::to_string(t) + ":" + std::to_string(i);
        auto seq = (*w)->Append(OneKeyBatch(key), Durability::kSync);
        if (seq.ok()) {
          EXPECT_FALSE(failed) << "an append succeeded after this thread saw the writer fail";
          acked[t].push_back(key);
        } else {
          EXPECT_TRUE(seq.status().IsIOError()) << seq.status().ToString();
          failed = true;
          if (i > 0 && acked[t].size() + 5 < static_cast<size_t>(i)) break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE((*w)->health().IsIOError());
  (void)(*w)->Close();

  std::set<std::string> on_disk;
  for (const auto& r : ReadAll(wal_dir())) on_disk.insert(KeyOf(r));
  size_t total = 0;
  for (const auto& keys : acked) {
    for (const auto& k : keys) EXPECT_TRUE(on_disk.count(k)) << "acknowledged " << k << " lost";
    total += keys.size();
  }
  EXPECT_GT(total, 0u);
}

TEST_F(WriterFaultTest, ShortWriteLeavesTornTailAndAckedPrefix) {
  auto w = Writer::Open(&faults_, wal_dir(), Options(), 1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(OneKeyBatch("a", 100), Durability::kSync).ok());
  ASSERT_TRUE((*w)->Append(OneKeyBatch("b", 100), Durability::kSync).ok());
  faults_.AddRule({.op = FaultOp::kWrite,
                   .error = Status::IOError("injected", EIO),
                   .path_contains = ".wal",
                   .times = 1,
                   .short_write_bytes = 40});
  EXPECT_TRUE((*w)->Append(OneKeyBatch("c", 100), Durability::kSync).status().IsIOError());
  (void)(*w)->Close();
  TailReport tail;
  const auto recs = ReadAll(wal_dir(), &tail);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(tail.state, TailState::kTorn);
  EXPECT_GT(tail.dropped_bytes, 0u);
  EXPECT_LE(tail.dropped_bytes, 40u);
  EXPECT_EQ(tail.last_seq, 2u);
}

TEST_F(WriterFaultTest, NoSpaceDuringRotationFailsTheAppendWithNoSpace) {
  WriterOptions o = Options();
  o.segment_size = 4096;
  auto w = Writer::Open(&faults_, wal_dir(), o, 1);
  ASSERT_TRUE(w.ok());
  faults_.AddRule({.op = FaultOp::kAllocate, .error = Status::IOError("full", ENOSPC)});
  Status first_error;
  int acked = 0;
  for (int i = 0; i < 100 && first_error.ok(); ++i) {
    auto seq = (*w)->Append(OneKeyBatch("k" + std::to_string(i), 400), Durability::kSync);
    if (seq.ok()) {
      ++acked;
    } else {
      first_error = seq.status();
    }
  }
  ASSERT_TRUE(first_error.IsNoSpace()) << first_error.ToString();
  EXPECT_GT(acked, 0);
  EXPECT_TRUE((*w)->Append(OneKeyBatch("x"), Durability::kSync).status().IsNoSpace());
  (void)(*w)->Close();
  // The half-created segment has no header; reading treats it as the torn end of the WAL.
  TailReport tail;
  EXPECT_EQ(ReadAll(wal_dir(), &tail).size(), static_cast<size_t>(acked));
  EXPECT_NE(tail.state, TailState::kCorrupt);
}

TEST_F(WriterFaultTest, FailedSegmentCreationAtOpenIsReported) {
  faults_.AddRule({.op = FaultOp::kSyncDir, .error = Status::IOError("dir", EIO)});
  const auto w = Writer::Open(&faults_, wal_dir(), Options(), 1);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsIOError());
}

}  // namespace
}  // namespace walcache::wal
