// wal/newest: the newest-segment witness. A newest segment lost whole (deleted, emptied, zeroed,
// garbled, its header replaced) is Corruption naming it and DIR/wal/NEWEST, with every earlier
// record still read; what a crash inside CreateSegment leaves (a witness naming the segment
// before) still reads as that crash; a damaged witness is reported after the records; CutWal
// leaves a WAL that reads clean with a witness naming its newest segment.
#include <filesystem>

#include "recovery/wal_cut.h"
#include "tests/reader_test_util.h"
#include "wal/newest.h"

namespace walcache::wal::reader_test {
namespace {

// 21 incompressible 500-byte records in 4 KiB segments: 7 per segment, 3 segments.
constexpr uint64_t kSegmentSize = 4096;
constexpr size_t kRecords = 21;
constexpr size_t kPerSegment = 7;

class NewestWitnessTest : public ReaderTest {
 protected:
  void SetUp() override {
    std::vector<std::string> batches;
    for (size_t i = 0; i < kRecords; ++i) batches.push_back(RandomBytes(500, 100 + i));
    WriteWal(wal_dir(), batches, Options(kSegmentSize, /*preallocate=*/true));
    ASSERT_EQ(test::SegmentPaths(wal_dir()).size(), 3u);
  }
  std::string newest() const { return wal_dir() + "/NEWEST"; }
  // Reads the WAL and cuts it as `walcache repair` would, then reads it again.
  ReadResult CutAndReread(const ReadResult& r) {
    Result<std::unique_ptr<Reader>> reader = Reader::Open(FileSystem::Posix(), wal_dir());
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return ReadResult{};
    WalRecord rec;
    while (true) {
      Result<bool> more = (*reader)->Next(&rec);
      if (!more.ok() || !*more) break;
    }
    EXPECT_EQ((*reader)->tail().state, r.tail.state);
    Result<recovery::CutReport> cut =
        recovery::CutWal(FileSystem::Posix(), wal_dir(), (*reader)->tail(), (*reader)->segments());
    EXPECT_TRUE(cut.ok()) << cut.status().ToString();
    return ReadWal(wal_dir());
  }
};

TEST_F(NewestWitnessTest, CreateSegmentWritesACopyOfTheNewestHeader) {
  Result<NewestWitness> w = ReadNewest(FileSystem::Posix(), wal_dir());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->header.number, 3u);
  EXPECT_EQ(w->header.first_seq, 2 * kPerSegment + 1);
  EXPECT_EQ(w->bytes, ReadFile(seg(3)).substr(0, kSegmentHeaderSize));
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records.size(), kRecords);
}

TEST_F(NewestWitnessTest, ANewestSegmentLostWholeIsCorruptionNamingItAndEarlierRecordsComeBack) {
  const std::string path = seg(3);
  const std::string original = ReadFile(path);
  const std::string witness = ReadFile(newest());
  struct Damage {
    const char* name;
    std::function<void()> apply;
  };
  const std::vector<Damage> damages = {
      {"deleted", [&] { std::filesystem::remove(path); }},
      {"emptied", [&] { WriteFile(path, ""); }},
      {"zeroed", [&] { WriteFile(path, std::string(original.size(), '\0')); }},
      {"garbled", [&] { WriteFile(path, RandomBytes(original.size(), 7)); }},
      {"header of another segment",
       [&] { WriteFile(path, EncodeSegmentHeader(3, 99) + original.substr(kSegmentHeaderSize)); }},
  };
  for (const Damage& d : damages) {
    WriteFile(path, original);
    WriteFile(newest(), witness);
    d.apply();
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.open_status.ok()) << d.name;
    ASSERT_TRUE(r.status.IsCorruption()) << d.name << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), path);
    EXPECT_CONTAINS(r.status.message(), newest());
    EXPECT_EQ(r.records.size(), 2 * kPerSegment) << d.name;
    EXPECT_EQ(r.tail.state, TailState::kCorrupt) << d.name;
    EXPECT_EQ(r.tail.last_seq, 2 * kPerSegment) << d.name;

    // The explicit way out: the cut sets the damaged segment aside and the witness follows.
    const ReadResult after = CutAndReread(r);
    ASSERT_TRUE(after.status.ok()) << d.name << ": " << after.status.ToString();
    EXPECT_EQ(after.records.size(), 2 * kPerSegment) << d.name;
    EXPECT_EQ(after.tail.state, TailState::kClean) << d.name;
    Result<NewestWitness> w = ReadNewest(FileSystem::Posix(), wal_dir());
    ASSERT_TRUE(w.ok()) << d.name << ": " << w.status().ToString();
    EXPECT_EQ(w->header.number, 2u) << d.name;
    for (const std::string& s : test::SegmentPaths(wal_dir())) {
      if (s != seg(1) && s != seg(2)) std::filesystem::remove(s);
    }
    for (const auto& e : std::filesystem::directory_iterator(wal_dir())) {
      if (e.path().string().find(".cut") != std::string::npos) std::filesystem::remove(e.path());
    }
  }
}

TEST_F(NewestWitnessTest, ACrashInsideCreateSegmentStillReadsAsOne) {
  // The witness still names segment 2: segment 3 was created, but CreateSegment died before
  // replacing the witness. No record can be in it; whatever state its bytes are in is a crash.
  WriteFile(newest(), ReadFile(seg(2)).substr(0, kSegmentHeaderSize));
  const std::string original = ReadFile(seg(3));
  for (const std::string& bytes :
       {std::string(), std::string(original.size(), '\0'), original.substr(0, 20)}) {
    WriteFile(seg(3), bytes);
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.records.size(), 2 * kPerSegment);
    EXPECT_NE(r.tail.state, TailState::kCorrupt);
  }
  // The same with the header written and synced: segment 3 reads whole.
  WriteFile(seg(3), original);
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records.size(), kRecords);
}

TEST_F(NewestWitnessTest, ANamedSegmentGoneIsNoErrorOnceANewerOneIsThere) {
  // The witness names segment 1, which a checkpoint deleted after segments 2 and 3 were made:
  // what a live reader can see between reading the witness and listing, or what a build without
  // witnesses leaves. Records from the front being gone is the checkpoint's business
  // (CheckWalHoldsFrom), not the witness's.
  WriteFile(newest(), ReadFile(seg(1)).substr(0, kSegmentHeaderSize));
  std::filesystem::remove(seg(1));
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records.size(), 2 * kPerSegment);
  EXPECT_EQ(r.tail.state, TailState::kClean);
}

TEST_F(NewestWitnessTest, ADamagedWitnessIsReportedAfterEveryRecord) {
  const std::string witness = ReadFile(newest());
  for (const std::string& bytes :
       {std::string(), witness.substr(0, 20), witness + "x", std::string(kSegmentHeaderSize, '\0'),
        RandomBytes(kSegmentHeaderSize, 3)}) {
    WriteFile(newest(), bytes);
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), newest());
    EXPECT_EQ(r.records.size(), kRecords);
    EXPECT_EQ(r.tail.file, seg(3));
    const ReadResult after = CutAndReread(r);
    ASSERT_TRUE(after.status.ok()) << after.status.ToString();
    EXPECT_EQ(after.records.size(), kRecords);
    EXPECT_EQ(ReadFile(newest()), witness) << "rewritten from the newest segment";
  }
  // Deleted: the reader cannot tell, and reads as before the witness existed.
  std::filesystem::remove(newest());
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records.size(), kRecords);
}

TEST_F(NewestWitnessTest, EverySegmentGoneButTheWitnessIsCorruptionAndTheCutRemovesIt) {
  for (const std::string& s : test::SegmentPaths(wal_dir())) std::filesystem::remove(s);
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), seg(3) + " is missing");
  const ReadResult after = CutAndReread(r);
  ASSERT_TRUE(after.status.ok()) << after.status.ToString();
  EXPECT_FALSE(std::filesystem::exists(newest()));
}

}  // namespace
}  // namespace walcache::wal::reader_test
