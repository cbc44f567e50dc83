// wal/reader, one segment: records written by the real wal::Writer read back exactly (seq, batch
// bytes, compression, file, offset); truncation at every byte and a flipped bit at every byte
// of a record are classified exactly: zeros are a clean end, damage with nothing valid after it
// is a torn tail with the dropped bytes counted, damage followed by valid data is Corruption
// naming the file and offset (docs/design.md §3).
#include <filesystem>

#include "tests/reader_test_util.h"

namespace walcache::wal::reader_test {
namespace {

TEST_F(ReaderTest, RecordsOfEverySizeRoundTripWithSeqFileOffsetAndCompression) {
  Batch big;
  big.Put("big", RandomBytes((8 << 20) + 123, 1), 42, {{"src", 7}});
  const std::vector<std::string> batches = {
      "",                          // empty payload
      "small",                     // stored as is (below the threshold)
      std::string(64 << 10, 'x'),  // 64 KiB, compresses
      big.Encode(),                // 8 MiB+, incompressible
  };
  const uint64_t kSegmentSize = 32 << 20;
  WriteWal(wal_dir(), batches, Options(kSegmentSize, /*preallocate=*/true), /*next_seq=*/5);

  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.open_status.ok()) << r.open_status.ToString();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.records.size(), batches.size());
  uint64_t offset = kSegmentHeaderSize;
  for (size_t i = 0; i < batches.size(); ++i) {
    const WalRecord& rec = r.records[i];
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(rec.seq, 5 + i);
    EXPECT_EQ(rec.segment, 1u);
    EXPECT_EQ(rec.file, seg(1));
    EXPECT_EQ(rec.offset, offset);
    EXPECT_EQ(rec.batch, batches[i]);
    const PreparedRecord prepared = PrepareRecord(batches[i], CompressionOptions{});
    EXPECT_EQ(rec.stored_bytes, prepared.payload.size());
    EXPECT_EQ(rec.compressed, prepared.flags == kFlagLz4);
    offset += kRecordHeaderSize + rec.stored_bytes;
  }
  EXPECT_FALSE(r.records[0].compressed);
  EXPECT_EQ(r.records[0].stored_bytes, 0u);
  EXPECT_FALSE(r.records[1].compressed);
  EXPECT_TRUE(r.records[2].compressed);
  EXPECT_LT(r.records[2].stored_bytes, 64u << 10);
  EXPECT_FALSE(r.records[3].compressed);
  EXPECT_EQ(r.records[3].stored_bytes, batches[3].size());
  auto decoded = Batch::Decode(r.records[3].batch);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, big);

  // The stored length field agrees with what the reader reported.
  const std::string file = ReadFile(seg(1));
  for (const WalRecord& rec : r.records) {
    EXPECT_EQ(DecodeFixed32(file.data() + rec.offset + kRecordLengthOffset), rec.stored_bytes);
  }

  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.file, seg(1));
  EXPECT_EQ(r.tail.segment, 1u);
  EXPECT_EQ(r.tail.valid_end, offset);
  EXPECT_EQ(r.tail.dropped_bytes, 0u);
  EXPECT_EQ(r.tail.stale_bytes, 0u);
  EXPECT_EQ(r.tail.last_seq, 8u);

  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_EQ(r.segments[0].number, 1u);
  EXPECT_EQ(r.segments[0].path, seg(1));
  EXPECT_EQ(r.segments[0].first_seq, 5u);
  EXPECT_EQ(r.segments[0].file_bytes, kSegmentSize);
  EXPECT_EQ(r.segments[0].records, 4u);
  EXPECT_FALSE(r.segments[0].skipped);
}

TEST_F(ReaderTest, MissingDirectoryIsAnEmptyCleanWal) {
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.open_status.ok());
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.segments.empty());
  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.file, "");
}

TEST_F(ReaderTest, SegmentWithOnlyAHeaderIsCleanAndReportsTheSeqBeforeIt) {
  WriteWal(wal_dir(), {}, Options(4096, /*preallocate=*/false), /*next_seq=*/100);
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.valid_end, kSegmentHeaderSize);
  EXPECT_EQ(r.tail.last_seq, 99u);
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_EQ(r.segments[0].first_seq, 100u);
  EXPECT_EQ(r.segments[0].file_bytes, kSegmentHeaderSize);
}

TEST_F(ReaderTest, RecordsStraddlingReadAheadBoundariesRoundTrip) {
  // ~4 MiB of records of irregular sizes: headers and payloads cross every 1 MiB read-ahead
  // boundary at different points.
  std::vector<std::string> batches;
  size_t total = 0;
  for (uint64_t i = 0; total < (4u << 20); ++i) {
    batches.push_back(RandomBytes((i * 7919) % 30011, i));
    total += kRecordHeaderSize + batches.back().size();
  }
  WriteWal(wal_dir(), batches, Options(64 << 20, /*preallocate=*/false));
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.records.size(), batches.size());
  uint64_t offset = kSegmentHeaderSize;
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(r.records[i].seq, i + 1);
    EXPECT_EQ(r.records[i].offset, offset);
    EXPECT_EQ(r.records[i].batch, batches[i]) << "record " << i;
    offset = EndOf(r.records[i]);
  }
  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.valid_end, test::FileSize(seg(1)));
}

// --- 2. Truncation ---------------------------------------------------------------------------

TEST_F(ReaderTest, TruncationAtEveryOffsetReturnsExactlyTheWholeRecords) {
  WriteWal(wal_dir(), SmallRecords(), Options(1 << 20, /*preallocate=*/false));
  const std::string path = seg(1);
  const std::string original = ReadFile(path);
  const ReadResult full = ReadWal(wal_dir());
  ASSERT_TRUE(full.status.ok());
  ASSERT_EQ(full.records.size(), 4u);
  ASSERT_EQ(EndOf(full.records.back()), original.size());

  const std::string newest = wal_dir() + "/NEWEST";
  const std::string witness = ReadFile(newest);
  for (uint64_t t = 0; t <= original.size(); ++t) {
    const std::string where = "truncated to " + std::to_string(t) + " bytes";
    WriteFile(path, original);
    WriteFile(newest, witness);
    TruncateFile(path, t);
    ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.open_status.ok()) << where;
    if (t < kSegmentHeaderSize) {
      // The witness says the header was durable: a short one is damage, not a crash during
      // creation, and the segment's records are lost.
      ASSERT_TRUE(r.status.IsCorruption()) << where << ": " << r.status.ToString();
      EXPECT_CONTAINS(r.status.message(), path);
      EXPECT_CONTAINS(r.status.message(), newest);
      EXPECT_EQ(r.tail.state, TailState::kCorrupt) << where;
      EXPECT_EQ(r.tail.valid_end, 0u) << where;
      // A crash inside CreateSegment, before the witness was written, leaves the same bytes
      // and no witness: that reads as such a crash.
      std::filesystem::remove(newest);
      r = ReadWal(wal_dir());
    }
    ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.ToString();

    size_t whole = 0;
    uint64_t valid_end = t < kSegmentHeaderSize ? 0 : kSegmentHeaderSize;
    while (whole < full.records.size() && EndOf(full.records[whole]) <= t) {
      valid_end = EndOf(full.records[whole]);
      ++whole;
    }
    ExpectPrefix(r.records, full.records, whole, where);
    const uint64_t nz = NonZeroEndOf(std::string_view(original).substr(0, t), valid_end);
    EXPECT_EQ(r.tail.state, nz == valid_end ? TailState::kClean : TailState::kTorn) << where;
    EXPECT_EQ(r.tail.valid_end, valid_end) << where;
    EXPECT_EQ(r.tail.dropped_bytes, nz - valid_end) << where;
    EXPECT_EQ(r.tail.stale_bytes, 0u) << where;
    EXPECT_EQ(r.tail.last_seq, whole) << where;
    EXPECT_EQ(r.tail.file, path) << where;
    ASSERT_EQ(r.segments.size(), 1u) << where;
    EXPECT_EQ(r.segments[0].file_bytes, t) << where;
    EXPECT_EQ(r.segments[0].records, whole) << where;
    EXPECT_EQ(r.segments[0].first_seq, t < kSegmentHeaderSize ? 0u : 1u) << where;
  }
}

// --- 3. Flipped bits -------------------------------------------------------------------------

TEST_F(ReaderTest, FlippedBitInAMiddleRecordIsCorruptionNamingFileAndOffset) {
  WriteWal(wal_dir(), {"first", std::string(400, 'm'), "third", "fourth"},
           Options(1 << 20, /*preallocate=*/false));
  const std::string path = seg(1);
  const std::string original = ReadFile(path);
  const ReadResult full = ReadWal(wal_dir());
  ASSERT_TRUE(full.status.ok());
  ASSERT_EQ(full.records.size(), 4u);
  const WalRecord& victim = full.records[1];
  ASSERT_TRUE(victim.compressed);

  auto check = [&](uint64_t byte, int bit) {
    const std::string where = "bit " + std::to_string(bit) + " of byte " + std::to_string(byte);
    WriteFile(path, original);
    FlipBit(path, byte, bit);
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.open_status.ok()) << where;
    ExpectPrefix(r.records, full.records, 1, where);
    ASSERT_TRUE(r.status.IsCorruption()) << where << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), At(path, victim.offset)) << where;
    EXPECT_EQ(r.tail.state, TailState::kCorrupt) << where;
    EXPECT_EQ(r.tail.file, path) << where;
    EXPECT_EQ(r.tail.valid_end, victim.offset) << where;
    EXPECT_EQ(r.tail.last_seq, 1u) << where;
    EXPECT_EQ(r.tail.detail, r.status.message()) << where;
  };
  for (uint64_t b = victim.offset; b < EndOf(victim); ++b) check(b, static_cast<int>(b % 8));
  for (uint64_t rel : {uint64_t{0}, kRecordLengthOffset, kRecordLengthOffset + 3, kRecordTypeOffset,
                       kRecordFlagsOffset, kRecordSeqOffset, kRecordSegmentOffset + 7,
                       kRecordHeaderSize, kRecordHeaderSize + victim.stored_bytes - 1}) {
    for (int bit = 0; bit < 8; ++bit) check(victim.offset + rel, bit);
  }
}

TEST_F(ReaderTest, FlippedBitInTheLastRecordIsATornTailNotAnError) {
  for (bool preallocate : {false, true}) {
    SCOPED_TRACE(preallocate ? "preallocated" : "not preallocated");
    ScratchDir dir;
    const std::string wal = dir.Join("wal");
    WriteWal(wal, {"first", "second", RandomBytes(40, 3)}, Options(8 << 10, preallocate));
    const std::string path = SegmentPath(wal, 1);
    const std::string original = ReadFile(path);
    const ReadResult full = ReadWal(wal);
    ASSERT_TRUE(full.status.ok());
    ASSERT_EQ(full.records.size(), 3u);
    const WalRecord& last = full.records[2];

    for (uint64_t b = last.offset; b < EndOf(last); ++b) {
      for (int bit : {static_cast<int>(b % 8), 7 - static_cast<int>(b % 8)}) {
        const std::string where = "bit " + std::to_string(bit) + " of byte " + std::to_string(b);
        std::string damaged = original;
        damaged[b] = static_cast<char>(damaged[b] ^ (1 << bit));
        WriteFile(path, damaged);
        const ReadResult r = ReadWal(wal);
        ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.ToString();
        ExpectPrefix(r.records, full.records, 2, where);
        EXPECT_EQ(r.tail.state, TailState::kTorn) << where;
        EXPECT_EQ(r.tail.valid_end, last.offset) << where;
        EXPECT_EQ(r.tail.dropped_bytes, NonZeroEndOf(damaged, last.offset) - last.offset) << where;
        EXPECT_EQ(r.tail.last_seq, 2u) << where;
        EXPECT_CONTAINS(r.tail.detail, At(path, last.offset)) << where;
      }
    }
  }
}

TEST_F(ReaderTest, DamageFollowedByAValidRecordNearAReadAheadBoundaryIsCorruption) {
  // The damaged record's payload is about 1 MiB, so the only valid record after it starts near
  // the end of the first chunk the resync scan screens (or just past it). Missing it would turn
  // the corruption into a torn tail.
  const uint64_t kChunk = 1 << 20;
  for (int64_t delta : {-27, -26, -25, -24, -2, -1, 0, 1, 2, 25, 26}) {
    const std::string where = "delta " + std::to_string(delta);
    ScratchDir dir;
    const std::string wal = dir.Join("wal");
    // The scan starts 1 byte after the damaged record's offset o2; the next record is at
    // o2 + 26 + length.
    const size_t length = static_cast<size_t>(static_cast<int64_t>(kChunk) + 1 + delta -
                                              static_cast<int64_t>(kRecordHeaderSize));
    WriteWal(wal, {"first", RandomBytes(length, 11), "last"}, Options(4 << 20, false));
    const std::string path = SegmentPath(wal, 1);
    const ReadResult full = ReadWal(wal);
    ASSERT_EQ(full.records.size(), 3u) << where;
    ASSERT_FALSE(full.records[1].compressed) << where;
    ASSERT_EQ(full.records[2].offset - full.records[1].offset - 1,
              static_cast<uint64_t>(static_cast<int64_t>(kChunk) + delta))
        << where;
    FlipBit(path, full.records[1].offset + kRecordHeaderSize + length / 2, 0);
    const ReadResult r = ReadWal(wal);
    ExpectPrefix(r.records, full.records, 1, where);
    ASSERT_TRUE(r.status.IsCorruption()) << where << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), At(path, full.records[1].offset)) << where;
    EXPECT_EQ(r.tail.state, TailState::kCorrupt) << where;
    EXPECT_EQ(r.tail.valid_end, full.records[1].offset) << where;
  }
}

TEST_F(ReaderTest, OneStrayByteBeforeTheLastRecordIsCorruption) {
  WriteWal(wal_dir(), {"first", "second", "third"}, Options(1 << 20, /*preallocate=*/false));
  const std::string path = seg(1);
  const std::string original = ReadFile(path);
  const ReadResult full = ReadWal(wal_dir());
  ASSERT_EQ(full.records.size(), 3u);
  const uint64_t o3 = full.records[2].offset;
  // The last record, shifted by one byte: damage immediately followed by a valid record.
  for (char stray : {'\0', '\x01'}) {
    WriteFile(path, original.substr(0, o3) + stray + original.substr(o3));
    const ReadResult r = ReadWal(wal_dir());
    ExpectPrefix(r.records, full.records, 2, "stray byte");
    ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), At(path, o3));
    EXPECT_EQ(r.tail.state, TailState::kCorrupt);
    EXPECT_EQ(r.tail.valid_end, o3);
    EXPECT_EQ(r.tail.last_seq, 2u);
  }
}

TEST_F(ReaderTest, ValidRecordWithTheWrongSeqIsCorruption) {
  WriteWal(wal_dir(), {"first", "second", "third"}, Options(1 << 20, /*preallocate=*/false));
  const std::string path = seg(1);
  const std::string original = ReadFile(path);
  const ReadResult full = ReadWal(wal_dir());
  ASSERT_EQ(full.records.size(), 3u);
  const uint64_t end = original.size();

  // A second copy of record 1 (valid checksum, seq 1) after record 3.
  Overwrite(path, end,
            original.substr(kSegmentHeaderSize, EndOf(full.records[0]) - kSegmentHeaderSize));
  ReadResult r = ReadWal(wal_dir());
  ExpectPrefix(r.records, full.records, 3, "duplicate");
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), At(path, end));
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  EXPECT_EQ(r.tail.valid_end, end);
  EXPECT_EQ(r.tail.last_seq, 3u);

  // A header whose first seq disagrees with the first record's seq (and a witness that agrees
  // with the header, or the header check would come first).
  WriteFile(path, EncodeSegmentHeader(1, 5) + original.substr(kSegmentHeaderSize));
  WriteFile(wal_dir() + "/NEWEST", EncodeSegmentHeader(1, 5));
  r = ReadWal(wal_dir());
  EXPECT_TRUE(r.records.empty());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), At(path, kSegmentHeaderSize));
  EXPECT_EQ(r.tail.valid_end, kSegmentHeaderSize);
  EXPECT_EQ(r.tail.last_seq, 4u);
}

TEST_F(ReaderTest, UndecodablePayloadWithAValidChecksumIsCorruptionAndNotCountedAsValid) {
  WriteWal(wal_dir(), {"first", "second"}, Options(1 << 20, /*preallocate=*/false));
  const std::string path = seg(1);
  const uint64_t end = test::FileSize(path);
  // Record 3 claims LZ4 but its block does not decode; its checksum is right. Record 4 is fine.
  PreparedRecord bad;
  bad.payload = std::string("\x10\xff\xff\xff\xff\xff", 6);
  bad.flags = kFlagLz4;
  bad.payload_crc = crc32c::Value(bad.payload);
  bad.raw_size = 16;
  std::string records;
  AppendRecord(bad, 3, 1, &records);
  AppendRecord(PrepareRecord("fourth", CompressionOptions{}), 4, 1, &records);
  Overwrite(path, end, records);

  const ReadResult r = ReadWal(wal_dir());
  ASSERT_EQ(r.records.size(), 2u);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), At(path, end));
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  // Valid data ends where the undecodable record starts; it is not the last valid record.
  EXPECT_EQ(r.tail.valid_end, end);
  EXPECT_EQ(r.tail.last_seq, 2u);
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_EQ(r.segments[0].records, 2u);
}

// --- 4. Preallocated zeros -------------------------------------------------------------------

TEST_F(ReaderTest, ZeroFilledPreallocatedTailIsACleanEnd) {
  const uint64_t kSegmentSize = 4 << 20;
  WriteWal(wal_dir(), SmallRecords(), Options(kSegmentSize, /*preallocate=*/true));
  const ReadResult r = ReadWal(wal_dir());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.tail.state, TailState::kClean);
  EXPECT_EQ(r.tail.valid_end, EndOf(r.records.back()));
  EXPECT_EQ(r.tail.dropped_bytes, 0u);
  EXPECT_EQ(r.tail.stale_bytes, 0u);
  EXPECT_EQ(r.tail.last_seq, 4u);
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_EQ(r.segments[0].file_bytes, kSegmentSize);
  EXPECT_EQ(test::FileSize(seg(1)), kSegmentSize);
}

// --- 5. Stale bytes --------------------------------------------------------------------------

}  // namespace
}  // namespace walcache::wal::reader_test
