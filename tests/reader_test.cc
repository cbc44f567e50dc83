// wal/reader: records written by the real wal::Writer read back exactly (seq, batch bytes,
// compression, file, offset), and what follows the last valid record is classified exactly
// (DESIGN.md §3): zeros and older segments' records are a clean end, damage with nothing valid
// after it in the last segment is a torn tail with the dropped bytes counted, and damage followed
// by valid data, damage in a segment with a successor, a sequence gap or a bad header of a segment
// that has a successor is Corruption naming the file (and offset), returned by every later Next.
// Also: truncation at every byte, a flipped bit at every byte of a record, stale bytes, rotation,
// from_seq, format versions, and bounded time and memory on garbage.
#include "wal/reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/test_util.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/file_system.h"
#include "wal/batch.h"
#include "wal/format.h"
#include "wal/record.h"
#include "wal/segment.h"
#include "wal/writer.h"

namespace walcache::wal {
namespace {

using test::CopyFile;
using test::FlipBit;
using test::Overwrite;
using test::ReadFile;
using test::ScratchDir;
using test::TruncateFile;
using test::WriteFile;
using test::ZeroRange;

// EXPECT_CONTAINS(haystack, needle): shows both on failure.
::testing::AssertionResult Contains(const char* haystack_expr, const char* needle_expr,
                                    const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << haystack_expr << " (\"" << haystack << "\") does not contain " << needle_expr << " (\""
         << needle << "\")";
}
#define EXPECT_CONTAINS(haystack, needle) EXPECT_PRED_FORMAT2(Contains, haystack, needle)

// Everything one pass of a Reader over a WAL directory produced.
struct ReadResult {
  Status open_status;  // Reader::Open's error, if any
  std::vector<WalRecord> records;
  Status status;  // OK if Next ended with false, else the error it returned
  TailReport tail;
  std::vector<SegmentSummary> segments;
};

ReadResult ReadWal(const std::string& wal_dir, ReaderOptions options = {}) {
  ReadResult out;
  auto reader = Reader::Open(FileSystem::Default(), wal_dir, options);
  if (!reader.ok()) {
    out.open_status = reader.status();
    return out;
  }
  while (true) {
    WalRecord rec;
    Result<bool> more = (*reader)->Next(&rec);
    if (!more.ok()) {
      out.status = more.status();
      break;
    }
    if (!*more) break;
    out.records.push_back(std::move(rec));
    if (out.records.size() > 100000) {
      ADD_FAILURE() << "reader does not stop";
      break;
    }
  }
  out.tail = (*reader)->tail();
  out.segments = (*reader)->segments();
  return out;
}

WriterOptions Options(uint64_t segment_size, bool preallocate) {
  WriterOptions o;
  o.segment_size = segment_size;
  o.preallocate = preallocate;
  o.sync_interval = std::chrono::milliseconds(0);
  o.max_group_wait = std::chrono::microseconds(0);
  return o;
}

// Appends `batches` with a fresh Writer (one record each) and closes it.
void WriteWal(const std::string& wal_dir, const std::vector<std::string>& batches,
              WriterOptions options, uint64_t next_seq = 1) {
  auto writer = Writer::Open(FileSystem::Default(), wal_dir, options, next_seq);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (size_t i = 0; i < batches.size(); ++i) {
    auto seq = (*writer)->Append(batches[i], Durability::kBuffered);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    ASSERT_EQ(*seq, next_seq + i);
  }
  ASSERT_TRUE((*writer)->Close().ok());
}

std::string SegmentPath(const std::string& wal_dir, uint64_t number) {
  return JoinPath(wal_dir, SegmentFileName(number));
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n + 8, '\0');
  for (size_t i = 0; i < n; i += 8) EncodeFixed64(s.data() + i, rng());
  s.resize(n);
  return s;
}

// End of the last non-zero byte of bytes[from, end), or `from` if there is none.
uint64_t NonZeroEndOf(std::string_view bytes, uint64_t from) {
  for (uint64_t i = bytes.size(); i > from; --i) {
    if (bytes[i - 1] != '\0') return i;
  }
  return from;
}

uint64_t EndOf(const WalRecord& r) { return r.offset + kRecordHeaderSize + r.stored_bytes; }

std::string At(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

// A few records of varying sizes: empty, small, compressible (stored compressed), random.
std::vector<std::string> SmallRecords() {
  return {"", "a small record", std::string(400, 'r'), RandomBytes(60, 7)};
}

// Checks that `got` are exactly the first `n` records of `all` (same seq, bytes and place).
void ExpectPrefix(const std::vector<WalRecord>& got, const std::vector<WalRecord>& all, size_t n,
                  const std::string& where) {
  ASSERT_EQ(got.size(), n) << where;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].seq, all[i].seq) << where;
    EXPECT_EQ(got[i].offset, all[i].offset) << where;
    EXPECT_EQ(got[i].file, all[i].file) << where;
    EXPECT_EQ(got[i].batch, all[i].batch) << where;
  }
}

// The same header with the version changed and the header crc fixed up, so that only the
// version is wrong.
std::string WithVersion(std::string header, uint32_t version) {
  EncodeFixed32(header.data() + 8, version);
  EncodeFixed32(header.data() + 32, crc32c::Value(header.data(), 32));
  return header;
}

// A record header with a correct-looking layout and a wrong checksum.
std::string BadRecordHeader(uint32_t length, uint64_t seq, uint64_t segment) {
  RecordHeader h;
  h.length = length;
  h.type = kRecordTypeBatch;
  h.seq = seq;
  h.segment = segment;
  char buf[kRecordHeaderSize];
  EncodeRecordHeader(h, buf);
  EncodeFixed32(buf, RecordChecksum(crc32c::Value(""), buf) ^ 0x5a5a5a5a);
  return std::string(buf, sizeof(buf));
}

class ReaderTest : public ::testing::Test {
 protected:
  std::string wal_dir() const { return dir_.Join("wal"); }
  std::string seg(uint64_t n) const { return SegmentPath(wal_dir(), n); }

  ScratchDir dir_;
};

// --- 1. Round trip -------------------------------------------------------------------------

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

  for (uint64_t t = 0; t <= original.size(); ++t) {
    const std::string where = "truncated to " + std::to_string(t) + " bytes";
    WriteFile(path, original);
    TruncateFile(path, t);
    const ReadResult r = ReadWal(wal_dir());
    ASSERT_TRUE(r.open_status.ok()) << where;
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

  // A header whose first seq disagrees with the first record's seq.
  WriteFile(path, EncodeSegmentHeader(1, 5) + original.substr(kSegmentHeaderSize));
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
  ASSERT_TRUE(FileSystem::Default()->CreateDir(wal_dir()).ok());
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
  ASSERT_TRUE(FileSystem::Default()->DeleteFile(seg(7)).ok());
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
  ASSERT_TRUE(FileSystem::Default()->DeleteFile(seg(2)).ok());
  const ReadResult r = ReadWal(wal_dir());
  EXPECT_EQ(r.records.size(), kPerSegment);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_CONTAINS(r.status.message(), seg(3));
  EXPECT_CONTAINS(r.status.message(), "sequence gap");
  EXPECT_CONTAINS(r.status.message(), std::to_string(2 * kPerSegment + 1));
  EXPECT_EQ(r.tail.state, TailState::kCorrupt);
  EXPECT_EQ(r.tail.last_seq, kPerSegment);
}

TEST_F(ReaderTest, LastSegmentCaughtDuringCreationIsCleanOrTornAndEarlierRecordsComeBack) {
  const std::vector<std::string> batches = RotationRecords();
  WriteWal(wal_dir(), batches, Options(kRotSegmentSize, /*preallocate=*/true));
  const std::string path = seg(3);
  const std::string original = ReadFile(path);
  const size_t before = 2 * kPerSegment;

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
  ASSERT_TRUE(FileSystem::Default()->DeleteFile(seg(1)).ok());
  for (uint64_t from : {2, 3, 7}) {
    const ReadResult r = ReadWal(wal_dir(), ReaderOptions{.from_seq = from});
    EXPECT_TRUE(r.records.empty());
    ASSERT_TRUE(r.status.IsCorruption()) << from << ": " << r.status.ToString();
    EXPECT_CONTAINS(r.status.message(), seg(2));
    EXPECT_CONTAINS(r.status.message(), "missing");
    EXPECT_CONTAINS(r.status.message(), "seq " + std::to_string(from));
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
    auto reader = Reader::Open(FileSystem::Default(), wal_dir());
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
}  // namespace walcache::wal
