// wal/reader across segments and on hostile input: stale bytes of older segments, rotation and
// sequence gaps, from_seq, segment headers and format versions, bounded time and memory on
// garbage, and errors that stick.
#include "tests/reader_test_util.h"

namespace walcache::wal::reader_test {
namespace {

TEST_F(ReaderTest, StaleRecordsOfAnOlderSegmentAreNeverReturned) {
  // Segment 1 (in another directory) holds six records with valid checksums.
  const std::string old_wal = dir_.Join("old");
  WriteWal(old_wal, {"o1", "o2", "o3", "o4", "o5", "o6"}, Options(1 << 20, false));
  const std::string old_bytes = ReadFile(SegmentPath(old_wal, 1));
  const std::string old_records = old_bytes.substr(kSegmentHeaderSize);

  // Segment 2 holds two records; then the older segment's records follow them.
  WriterOptions options = Options(1 << 20, false);
  options.min_segment_number = 2;
  WriteWal(wal_dir(), {"n1", "n2"}, options);
  const std::string path = seg(2);
  const uint64_t new_end = test::FileSize(path);
  Overwrite(path, new_end, old_records);

  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].batch, "n1");
  EXPECT_EQ(r.records[1].batch, "n2");
  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.valid_end, new_end);
  EXPECT_EQ(r.tail.stale_bytes, old_records.size());
  EXPECT_EQ(r.tail.dropped_bytes, 0u);
  EXPECT_EQ(r.tail.last_seq, 2u);
}

TEST_F(ReaderTest, GarbageAfterStaleRecordsIsStillATornTail) {
  // Stale records only make a clean end when nothing but zeros follows them.
  const std::string old_wal = dir_.Join("old");
  WriteWal(old_wal, {"o1", "o2"}, Options(1 << 20, false));
  const std::string old_records = ReadFile(SegmentPath(old_wal, 1)).substr(kSegmentHeaderSize);
  WriterOptions options = Options(1 << 20, false);
  options.min_segment_number = 2;
  WriteWal(wal_dir(), {"n1"}, options);
  const std::string path = seg(2);
  const uint64_t new_end = test::FileSize(path);
  const std::string garbage = RandomBytes(100, 9) + "\x01";
  Overwrite(path, new_end, old_records + garbage);

  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.tail.state, TailState::kTorn);
  EXPECT_EQ(r.tail.valid_end, new_end);
  EXPECT_EQ(r.tail.dropped_bytes, old_records.size() + garbage.size());
  EXPECT_EQ(r.tail.stale_bytes, 0u);
}

TEST_F(ReaderTest, RecordsCopiedIntoASegmentWithAnotherNumberAreNotReturned) {
  const std::string old_wal = dir_.Join("old");
  WriteWal(old_wal, {"o1", "o2", "o3"}, Options(1 << 20, false));
  const std::string old_records = ReadFile(SegmentPath(old_wal, 1)).substr(kSegmentHeaderSize);

  // Segment 7 with a valid header for number 7 and first seq 1, then segment 1's records.
  ASSERT_TRUE(FileSystem::Posix()->CreateDir(wal_dir()).ok());
  WriteFile(seg(7), EncodeSegmentHeader(7, 1) + old_records);

  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.valid_end, kSegmentHeaderSize);
  EXPECT_EQ(r.tail.stale_bytes, old_records.size());
  EXPECT_EQ(r.tail.last_seq, 0u);
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_EQ(r.segments[0].records, 0u);

  // The whole old segment file renamed to a new number: its header names segment 1.
  ASSERT_TRUE(FileSystem::Posix()->DeleteFile(seg(7)).ok());
  CopyFile(SegmentPath(old_wal, 1), seg(7));
  const ReadResult renamed = ReadWal(wal_dir());
  EXPECT_TRUE(renamed.records.empty());
  ASSERT_TRUE(renamed.status.IsCorruption()) << renamed.status.ToString();
  EXPECT_CONTAINS(renamed.status.message(), seg(7));
}

// --- 6. Multiple segments --------------------------------------------------------------------

// 21 incompressible 500-byte records in 4 KiB segments: 7 per segment, 3 segments.
constexpr uint64_t kRotSegmentSize = 4096;
constexpr size_t kRotRecords = 21;
constexpr size_t kPerSegment = (kRotSegmentSize - kSegmentHeaderSize) / (kRecordHeaderSize + 500);
static_assert(kPerSegment == 7);

std::vector<std::string> RotationRecords() {
  std::vector<std::string> out;
  for (size_t i = 0; i < kRotRecords; ++i) out.push_back(RandomBytes(500, 100 + i));
  return out;
}

TEST_F(ReaderTest, RecordsAcrossRotatedSegmentsComeBackInOrder) {
  for (bool preallocate : {true, false}) {
    SCOPED_TRACE(preallocate ? "preallocated" : "not preallocated");
    ScratchDir dir;
    const std::string wal = dir.Join("wal");
    const std::vector<std::string> batches = RotationRecords();
    WriteWal(wal, batches, Options(kRotSegmentSize, preallocate));
    const ReadResult r = ReadWal(wal);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(r.records.size(), kRotRecords);
    for (size_t i = 0; i < kRotRecords; ++i) {
      const uint64_t number = 1 + i / kPerSegment;
      EXPECT_EQ(r.records[i].seq, i + 1);
      EXPECT_EQ(r.records[i].batch, batches[i]);
      EXPECT_EQ(r.records[i].segment, number);
      EXPECT_EQ(r.records[i].file, SegmentPath(wal, number));
      EXPECT_EQ(r.records[i].offset,
                kSegmentHeaderSize + (i % kPerSegment) * (kRecordHeaderSize + 500));
    }
    ASSERT_EQ(r.segments.size(), 3u);
    for (size_t s = 0; s < 3; ++s) {
      EXPECT_EQ(r.segments[s].number, s + 1);
      EXPECT_EQ(r.segments[s].first_seq, 1 + s * kPerSegment);
      EXPECT_EQ(r.segments[s].records, kPerSegment);
      EXPECT_EQ(r.segments[s].file_bytes,
                preallocate ? kRotSegmentSize
                            : kSegmentHeaderSize + kPerSegment * (kRecordHeaderSize + 500));
      EXPECT_FALSE(r.segments[s].skipped);
    }
    EXPECT_EQ(r.tail.state, TailState::kClean);
    EXPECT_EQ(r.tail.file, SegmentPath(wal, 3));
    EXPECT_EQ(r.tail.segment, 3u);
    EXPECT_EQ(r.tail.valid_end, EndOf(r.records.back()));
    EXPECT_EQ(r.tail.last_seq, kRotRecords);
  }
}

TEST_F(ReaderTest, GarbageAfterTheLastRecordOfANonLastSegmentIsCorruption) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  const uint64_t end = kSegmentHeaderSize + kPerSegment * (kRecordHeaderSize + 500);
  Overwrite(seg(1), end + 10, "garbage!");
  const ReadResult r = ReadWal(wal_dir());
  EXPECT_EQ(r.records.size(), kPerSegment);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), At(seg(1), end));
  EXPECT_CONTAINS(r.status.message(), "18 bytes");
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  EXPECT_EQ(r.tail.file, seg(1));
  EXPECT_EQ(r.tail.valid_end, end);
  EXPECT_EQ(r.tail.last_seq, kPerSegment);
}

TEST_F(ReaderTest, TruncatedNonLastSegmentIsCorruptionNotTorn) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/false));
  const uint64_t last_start = kSegmentHeaderSize + (kPerSegment - 1) * (kRecordHeaderSize + 500);
  TruncateFile(seg(2), last_start + 100);
  const ReadResult r = ReadWal(wal_dir());
  EXPECT_EQ(r.records.size(), 2 * kPerSegment - 1);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), At(seg(2), last_start));
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  EXPECT_EQ(r.tail.file, seg(2));
  EXPECT_EQ(r.tail.valid_end, last_start);
  EXPECT_EQ(r.tail.last_seq, 2 * kPerSegment - 1);
}

TEST_F(ReaderTest, MissingMiddleSegmentIsCorruptionAboutASequenceGap) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  ASSERT_TRUE(FileSystem::Posix()->DeleteFile(seg(2)).ok());
  const ReadResult r = ReadWal(wal_dir());
  EXPECT_EQ(r.records.size(), kPerSegment);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), seg(3));
  EXPECT_CONTAINS(r.status.message(), "sequence gap");
  EXPECT_CONTAINS(r.status.message(), std::to_string(2 * kPerSegment + 1));
  EXPECT_CONTAINS(r.status.message(), seg(2) + " is missing");
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  EXPECT_EQ(r.tail.last_seq, kPerSegment);
}

TEST_F(ReaderTest, LastSegmentCaughtDuringCreationIsCleanOrTornAndEarlierRecordsComeBack) {
  const std::vector<std::string> batches = RotationRecords();
  WriteWal(wal_dir(), batches, Options(kRotSegmentSize, /*preallocate=*/true));
  const std::string path = seg(3);
  const std::string original = ReadFile(path);
  const size_t before = 2 * kPerSegment;
  // A crash inside CreateSegment leaves the witness naming the segment before (newest.h).
  WriteFile(wal_dir() + "/NEWEST", ReadFile(seg(2)).substr(0, kSegmentHeaderSize));

  auto expect_earlier = [&](const ReadResult& r, const std::string& where) {
    ASSERT_EQ(r.records.size(), before) << where;
    for (size_t i = 0; i < before; ++i) EXPECT_EQ(r.records[i].batch, batches[i]) << where;
    EXPECT_EQ(r.tail.file, path) << where;
    EXPECT_EQ(r.tail.segment, 3u) << where;
    EXPECT_EQ(r.tail.valid_end, 0u) << where;
    EXPECT_EQ(r.tail.last_seq, before) << where;
  };

  {  // Preallocated, header never written: all zeros.
    WriteFile(path, std::string(original.size(), '\0'));
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    expect_earlier(r, "all zeros");
    EXPECT_EQ(r.tail.state, TailState::kClean);
    EXPECT_EQ(r.tail.dropped_bytes, 0u);
  }
  {  // Created, nothing reserved or written.
    WriteFile(path, "");
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    expect_earlier(r, "empty file");
    EXPECT_EQ(r.tail.state, TailState::kClean);
  }
  {  // Header half written.
    const std::string partial = original.substr(0, 20) + std::string(original.size() - 20, '\0');
    WriteFile(path, partial);
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    expect_earlier(r, "partial header");
    EXPECT_EQ(r.tail.state, TailState::kTorn);
    EXPECT_EQ(r.tail.dropped_bytes, NonZeroEndOf(partial, 0));
  }
  // Header zeroed but this segment's valid records follow it (all of them, or only the first,
  // right after the header): not a crash during creation.
  for (uint64_t keep : {uint64_t{kRotSegmentSize}, kSegmentHeaderSize + kRecordHeaderSize + 500}) {
    WriteFile(path, original);
    ZeroRange(path, 0, kSegmentHeaderSize);
    ZeroRange(path, keep, kRotSegmentSize - keep);
    const ReadResult r = ReadWal(wal_dir());
    EXPECT_EQ(r.records.size(), before);
    ASSERT_TRUE(r.status.IsCorruption()) << keep << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), path);
    EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  }
}

// --- 7. from_seq -----------------------------------------------------------------------------

TEST_F(ReaderTest, FromSeqReturnsOnlyLaterRecordsAndSkipsWholeEarlierSegments) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  struct Case {
    uint64_t from_seq;
    std::vector<bool> skipped;
  };
  for (const Case& c : {Case{0, {false, false, false}}, Case{1, {false, false, false}},
                        Case{7, {false, false, false}}, Case{8, {true, false, false}},
                        Case{10, {true, false, false}}, Case{15, {true, true, false}},
                        Case{21, {true, true, false}}, Case{22, {true, true, false}},
                        Case{1000, {true, true, false}}}) {
    const std::string where = "from_seq " + std::to_string(c.from_seq);
    const ReadResult r = ReadWal(wal_dir(), ReaderOptions{.from_seq = c.from_seq});
    ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.ToString();
    const uint64_t first = std::max<uint64_t>(c.from_seq, 1);
    const size_t expected = first > kRotRecords ? 0 : kRotRecords - first + 1;
    ASSERT_EQ(r.records.size(), expected) << where;
    for (size_t i = 0; i < expected; ++i) EXPECT_EQ(r.records[i].seq, first + i) << where;
    ASSERT_EQ(r.segments.size(), 3u) << where;
    for (size_t s = 0; s < 3; ++s) {
      EXPECT_EQ(r.segments[s].skipped, c.skipped[s]) << where << " segment " << s + 1;
      // Records before from_seq in a segment that is read are verified and counted.
      EXPECT_EQ(r.segments[s].records, c.skipped[s] ? 0u : kPerSegment) << where;
    }
    EXPECT_EQ(r.tail.state, TailState::kClean) << where;
    EXPECT_EQ(r.tail.last_seq, kRotRecords) << where;
  }
}

TEST_F(ReaderTest, FromSeqBeforeTheFirstSegmentIsCorruptionSayingRecordsAreMissing) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  ASSERT_TRUE(FileSystem::Posix()->DeleteFile(seg(1)).ok());
  for (uint64_t from : {2, 3, 7}) {
    const ReadResult r = ReadWal(wal_dir(), ReaderOptions{.from_seq = from});
    EXPECT_TRUE(r.records.empty());
    ASSERT_TRUE(r.status.IsCorruption()) << from << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), seg(2));
    EXPECT_CONTAINS(r.status.message(), "missing");
    EXPECT_CONTAINS(r.status.message(), "seq " + std::to_string(from));
    EXPECT_CONTAINS(r.status.message(), "they were in " + seg(1) + " or earlier");
    EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  }
  // From the first seq the WAL still holds, or later, nothing is missing.
  for (uint64_t from : {8, 9, 16}) {
    const ReadResult r = ReadWal(wal_dir(), ReaderOptions{.from_seq = from});
    ASSERT_TRUE(r.status.ok()) << from << ": " << r.status.ToString();
    ASSERT_FALSE(r.records.empty());
    EXPECT_EQ(r.records.front().seq, from);
    EXPECT_EQ(r.records.back().seq, kRotRecords);
  }
}

// --- 8. Segment headers ----------------------------------------------------------------------

TEST_F(ReaderTest, FutureFormatVersionIsNotSupportedInAnySegment) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/false));
  for (uint64_t n : {1, 2, 3}) {
    const std::string path = seg(n);
    const std::string original = ReadFile(path);
    Overwrite(path, 0, WithVersion(original.substr(0, kSegmentHeaderSize), kFormatVersion + 1));
    const ReadResult r = ReadWal(wal_dir());
    EXPECT_EQ(r.records.size(), (n - 1) * kPerSegment) << n;
    ASSERT_TRUE(r.status.IsNotSupported()) << n << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), path);
    EXPECT_CONTAINS(r.status.message(), "version " + std::to_string(kFormatVersion + 1));
    WriteFile(path, original);
  }
  // The fixed-up header with the current version is read as before.
  const std::string path = seg(2);
  Overwrite(path, 0, WithVersion(ReadFile(path).substr(0, kSegmentHeaderSize), kFormatVersion));
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records.size(), kRotRecords);
}

TEST_F(ReaderTest, BadMagicInANonLastSegmentIsCorruption) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  Overwrite(seg(2), 0, "X");
  const ReadResult r = ReadWal(wal_dir());
  EXPECT_EQ(r.records.size(), kPerSegment);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), seg(2));
  EXPECT_CONTAINS(r.status.message(), "magic");
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  EXPECT_EQ(r.tail.last_seq, kPerSegment);
}

TEST_F(ReaderTest, NonLastSegmentWithAnUnreadableHeaderAndNoRecordsIsCorruption) {
  // Only the newest segment can be caught half-created; an older one is complete on disk.
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  const std::string original = ReadFile(seg(2));
  for (uint64_t size : {uint64_t{0}, uint64_t{20}, kRotSegmentSize}) {
    const std::string where = "segment 2 zeroed to " + std::to_string(size) + " bytes";
    WriteFile(seg(2), std::string(size, '\0'));
    if (size == 20) Overwrite(seg(2), 0, original.substr(0, 20));
    const ReadResult r = ReadWal(wal_dir());
    EXPECT_EQ(r.records.size(), kPerSegment) << where;
    ASSERT_TRUE(r.status.IsCorruption()) << where << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), seg(2)) << where;
    EXPECT_EQ(r.tail.state, TailState::kCorrupt) << where;
  }
}

TEST_F(ReaderTest, DamagedHeaderChecksumInANonLastSegmentIsCorruption) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  FlipBit(seg(1), 24, 3);  // first_seq
  const ReadResult r = ReadWal(wal_dir());
  EXPECT_TRUE(r.records.empty());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), seg(1));
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
}

// --- 9. Garbage ------------------------------------------------------------------------------

TEST_F(ReaderTest, RandomBytesAfterTheHeaderEndQuicklyAsATornTail) {
  WriteWal(wal_dir(), {}, Options(4096, /*preallocate=*/false));
  const std::string path = seg(1);
  const std::string garbage = RandomBytes(4 << 20, 99);
  Overwrite(path, kSegmentHeaderSize, garbage);
  const auto start = std::chrono::steady_clock::now();
  const ReadResult r = ReadWal(wal_dir());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(3));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.tail.state, TailState::kTorn);
  EXPECT_EQ(r.tail.valid_end, kSegmentHeaderSize);
  EXPECT_EQ(r.tail.dropped_bytes,
            NonZeroEndOf(ReadFile(path), kSegmentHeaderSize) - kSegmentHeaderSize);
}

TEST_F(ReaderTest, ManyPlausibleHeadersWithBadChecksumsAreBoundedInTime) {
  struct Case {
    uint32_t length;  // claimed payload length of every fake header
    bool corrupt;     // the resync budget runs out: Corruption rather than a guessed torn tail
  };
  for (const Case& c : {Case{0, false}, Case{100, false}, Case{64 << 10, true}}) {
    const std::string where = "length " + std::to_string(c.length);
    ScratchDir dir;
    const std::string wal = dir.Join("wal");
    WriteWal(wal, {"valid one"}, Options(4096, /*preallocate=*/false));
    const std::string path = SegmentPath(wal, 1);
    const uint64_t end = test::FileSize(path);
    const std::string fake = BadRecordHeader(c.length, 2, 1);
    std::string region;
    while (region.size() < (4u << 20)) region += fake;
    Overwrite(path, end, region);

    const auto start = std::chrono::steady_clock::now();
    const ReadResult r = ReadWal(wal);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, std::chrono::seconds(3)) << where;
    ASSERT_EQ(r.records.size(), 1u) << where;
    if (c.corrupt) {
      ASSERT_TRUE(r.status.IsCorruption()) << where << ": " << r.status.ToString();
      EXPECT_CONTAINS(r.status.message(), At(path, end)) << where;
      EXPECT_EQ(r.tail.state, TailState::kCorrupt) << where;
    } else {
      ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.ToString();
      EXPECT_EQ(r.tail.state, TailState::kTorn) << where;
      EXPECT_EQ(r.tail.dropped_bytes, NonZeroEndOf(ReadFile(path), end) - end) << where;
    }
    EXPECT_EQ(r.tail.valid_end, end) << where;
  }
}

TEST_F(ReaderTest, HugeLengthInARecordHeaderIsNeverTrusted) {
  WriteWal(wal_dir(), {"first", "second", "third"}, Options(1 << 20, /*preallocate=*/true));
  const std::string path = seg(1);
  const std::string original = ReadFile(path);
  const ReadResult full = ReadWal(wal_dir());
  ASSERT_EQ(full.records.size(), 3u);

  for (uint32_t length :
       {0xFFFFFFFFu, kMaxRecordPayload + 1, kMaxRecordPayload, static_cast<uint32_t>(1 << 20)}) {
    const std::string where = "length " + std::to_string(length);
    std::string len(4, '\0');
    EncodeFixed32(len.data(), length);
    {  // In the middle record: valid records follow, so Corruption.
      WriteFile(path, original);
      Overwrite(path, full.records[1].offset + kRecordLengthOffset, len);
      const ReadResult r = ReadWal(wal_dir());
      ExpectPrefix(r.records, full.records, 1, where);
      ASSERT_TRUE(r.status.IsCorruption()) << where << ": " << r.status.ToString();
      EXPECT_CONTAINS(r.status.message(), At(path, full.records[1].offset)) << where;
    }
    {  // In the last record: a torn tail.
      WriteFile(path, original);
      Overwrite(path, full.records[2].offset + kRecordLengthOffset, len);
      const ReadResult r = ReadWal(wal_dir());
      ExpectPrefix(r.records, full.records, 2, where);
      ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.ToString();
      EXPECT_EQ(r.tail.state, TailState::kTorn) << where;
      EXPECT_EQ(r.tail.valid_end, full.records[2].offset) << where;
      EXPECT_EQ(r.tail.dropped_bytes, EndOf(full.records[2]) - full.records[2].offset) << where;
    }
  }
}

// --- 10. Errors are sticky -------------------------------------------------------------------

TEST_F(ReaderTest, AfterAnErrorEveryNextReturnsTheSameError) {
  WriteWal(wal_dir(), RotationRecords(), Options(kRotSegmentSize, /*preallocate=*/true));
  const std::string seg2 = ReadFile(seg(2));

  auto expect_sticky = [&](const std::string& where, Status::Code code) {
    auto reader = Reader::Open(FileSystem::Posix(), wal_dir());
    ASSERT_TRUE(reader.ok()) << where;
    WalRecord rec;
    Status first;
    size_t returned = 0;
    while (true) {
      Result<bool> more = (*reader)->Next(&rec);
      if (!more.ok()) {
        first = more.status();
        break;
      }
      ASSERT_TRUE(*more) << where << ": ended without an error";
      ++returned;
    }
    EXPECT_EQ(returned, kPerSegment) << where;
    EXPECT_EQ(first.code(), code) << where << ": " << first.ToString();
    EXPECT_CONTAINS(first.message(), seg(2)) << where;
    const TailReport tail = (*reader)->tail();
    for (int i = 0; i < 3; ++i) {
      rec = WalRecord{};
      Result<bool> again = (*reader)->Next(&rec);
      ASSERT_FALSE(again.ok()) << where;
      EXPECT_EQ(again.status(), first) << where;
      EXPECT_EQ(rec.seq, 0u) << where;
      EXPECT_EQ((*reader)->tail().state, tail.state) << where;
      EXPECT_EQ((*reader)->tail().valid_end, tail.valid_end) << where;
      EXPECT_EQ((*reader)->tail().detail, tail.detail) << where;
    }
  };

  // The first record of segment 2 is damaged; valid records follow it.
  FlipBit(seg(2), kSegmentHeaderSize + 40, 2);
  expect_sticky("damaged record", Status::Code::kCorruption);

  WriteFile(seg(2),
            WithVersion(seg2.substr(0, kSegmentHeaderSize), 9) + seg2.substr(kSegmentHeaderSize));
  expect_sticky("future version", Status::Code::kNotSupported);
}

}  // namespace
}  // namespace walcache::wal::reader_test
