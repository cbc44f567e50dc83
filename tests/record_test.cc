// wal/record, wal/compression, wal/segment: record framing and its checksum, LZ4 used only when
// it pays, decompression that distrusts stored sizes, segment headers and file names.
#include "wal/record.h"

#include <gtest/gtest.h>

#include <random>

#include "util/coding.h"
#include "util/crc32c.h"
#include "wal/compression.h"
#include "wal/format.h"
#include "wal/segment.h"

namespace walcache::wal {
namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Verifies a framed record the way the reader does; returns true iff the checksum holds.
bool ChecksumHolds(const std::string& framed) {
  const RecordHeader h = DecodeRecordHeader(framed.data());
  const std::string_view payload(framed.data() + kRecordHeaderSize,
                                 framed.size() - kRecordHeaderSize);
  return RecordChecksum(crc32c::Value(payload), framed.data()) == h.crc;
}

TEST(RecordTest, FramingRoundTripsEveryHeaderField) {
  const PreparedRecord r = PrepareRecord("batch bytes", CompressionOptions{});
  std::string framed;
  AppendRecord(r, 0x0102030405060708ull, 77, &framed);
  ASSERT_EQ(framed.size(), kRecordHeaderSize + 11);
  const RecordHeader h = DecodeRecordHeader(framed.data());
  EXPECT_EQ(h.length, 11u);
  EXPECT_EQ(h.type, kRecordTypeBatch);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.seq, 0x0102030405060708ull);
  EXPECT_EQ(h.segment, 77u);
  EXPECT_TRUE(PlausibleHeader(h));
  EXPECT_TRUE(ChecksumHolds(framed));
}

TEST(RecordTest, ChecksumCoversEveryBitOfHeaderAndPayload) {
  const PreparedRecord r = PrepareRecord("some payload", CompressionOptions{});
  std::string framed;
  AppendRecord(r, 5, 2, &framed);
  for (size_t i = 0; i < framed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = framed;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(ChecksumHolds(bad)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(RecordTest, ZeroHeaderIsNeverPlausible) {
  const std::string zeros(kRecordHeaderSize, '\0');
  EXPECT_FALSE(PlausibleHeader(DecodeRecordHeader(zeros.data())));
}

TEST(RecordTest, CompressesOnlyAboveThresholdAndWhenSmaller) {
  CompressionOptions opts;
  opts.threshold = 100;
  const std::string repetitive(10000, 'a');
  const PreparedRecord big = PrepareRecord(repetitive, opts);
  EXPECT_EQ(big.flags, kFlagLz4);
  EXPECT_LT(big.payload.size(), 200u);
  EXPECT_EQ(big.raw_size, 10000u);

  EXPECT_EQ(PrepareRecord(std::string(99, 'a'), opts).flags, 0);  // below threshold
  EXPECT_EQ(PrepareRecord(RandomBytes(5000, 1), opts).flags, 0);  // would not shrink
  opts.enabled = false;
  EXPECT_EQ(PrepareRecord(repetitive, opts).flags, 0);  // disabled

  RecordHeader h;
  h.flags = kFlagLz4;
  auto back = DecodePayload(h, big.payload);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, repetitive);
}

TEST(RecordTest, DecompressRejectsLyingSizesAndGarbage) {
  std::string stored;
  ASSERT_TRUE(MaybeCompress(std::string(5000, 'z'), CompressionOptions{}, &stored));
  // Claimed raw size larger than allowed, larger than LZ4 could produce, or simply wrong.
  std::string_view body = stored;
  uint32_t raw = 0;
  ASSERT_TRUE(GetVarint32(&body, &raw));
  for (uint32_t claim : {raw + 1, raw - 1, UINT32_MAX, 1u << 30}) {
    std::string lie;
    PutVarint32(&lie, claim);
    lie.append(body);
    EXPECT_TRUE(Decompress(lie, kMaxRecordPayload).status().IsCorruption()) << claim;
  }
  EXPECT_TRUE(Decompress(stored, 100).status().IsCorruption());  // above max_raw
  EXPECT_TRUE(Decompress("", kMaxRecordPayload).status().IsCorruption());
  std::string garbage;
  PutVarint32(&garbage, 100);
  garbage += RandomBytes(50, 3);
  EXPECT_TRUE(Decompress(garbage, kMaxRecordPayload).status().IsCorruption());
}

TEST(SegmentTest, HeaderRoundTripsAndDetectsDamage) {
  const std::string h = EncodeSegmentHeader(42, 1000);
  ASSERT_EQ(h.size(), kSegmentHeaderSize);
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(h, "seg", &out).ok());
  EXPECT_EQ(out.number, 42u);
  EXPECT_EQ(out.first_seq, 1000u);
  EXPECT_EQ(out.version, kFormatVersion);
  for (size_t i = 0; i < h.size(); ++i) {
    std::string bad = h;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    const Status s = DecodeSegmentHeader(bad, "seg", &out);
    EXPECT_TRUE(s.IsCorruption()) << i << ": " << s.ToString();
  }
  EXPECT_TRUE(DecodeSegmentHeader(h.substr(0, 10), "seg", &out).IsCorruption());
}

TEST(SegmentTest, FutureVersionIsNotSupported) {
  std::string h = EncodeSegmentHeader(1, 1);
  EncodeFixed32(h.data() + 8, kFormatVersion + 1);
  EncodeFixed32(h.data() + kSegmentHeaderSize - 4, crc32c::Value(h.data(), kSegmentHeaderSize - 4));
  SegmentHeader out;
  const Status s = DecodeSegmentHeader(h, "/d/wal/000001.wal", &out);
  ASSERT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(s.message().find("/d/wal/000001.wal"), std::string::npos);
  EXPECT_NE(s.message().find("version 2"), std::string::npos);
}

TEST(SegmentTest, ANonZeroReservedFieldIsCorruptionEvenWithAGoodChecksum) {
  std::string h = EncodeSegmentHeader(1, 1);
  EncodeFixed32(h.data() + 12, 7);
  EncodeFixed32(h.data() + kSegmentHeaderSize - 4, crc32c::Value(h.data(), kSegmentHeaderSize - 4));
  SegmentHeader out;
  const Status s = DecodeSegmentHeader(h, "/d/wal/000001.wal", &out);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("reserved field is 7"), std::string::npos) << s.ToString();
}

TEST(SegmentTest, FileNamesParseOnlyTheirOwnShape) {
  EXPECT_EQ(SegmentFileName(7), "000007.wal");
  EXPECT_EQ(SegmentFileName(12345678), "12345678.wal");
  uint64_t n = 0;
  ASSERT_TRUE(ParseSegmentFileName("000007.wal", &n));
  EXPECT_EQ(n, 7u);
  ASSERT_TRUE(ParseSegmentFileName("18446744073709551615.wal", &n));
  EXPECT_EQ(n, UINT64_MAX);
  for (const char* bad : {".wal", "7.wal.cut", "x7.wal", "000007.WAL", "18446744073709551616.wal",
                          "000007", "-1.wal"}) {
    EXPECT_FALSE(ParseSegmentFileName(bad, &n)) << bad;
  }
}

}  // namespace
}  // namespace walcache::wal
