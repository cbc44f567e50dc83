// Helpers shared by the WAL reader suites (reader_test.cc, reader_segments_test.cc): write a
// WAL with the real Writer, read it back whole, and forge headers and records.
#ifndef WALCACHE_TESTS_READER_TEST_UTIL_H_
#define WALCACHE_TESTS_READER_TEST_UTIL_H_

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
#include "wal/reader.h"
#include "wal/record.h"
#include "wal/segment.h"
#include "wal/writer.h"

namespace walcache::wal::reader_test {

using test::CopyFile;
using test::FlipBit;
using test::Overwrite;
using test::ReadFile;
using test::ScratchDir;
using test::TruncateFile;
using test::WriteFile;
using test::ZeroRange;

// EXPECT_CONTAINS(haystack, needle): shows both on failure.
inline ::testing::AssertionResult Contains(const char* haystack_expr, const char* needle_expr,
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

inline ReadResult ReadWal(const std::string& wal_dir, ReaderOptions options = {}) {
  ReadResult out;
  auto reader = Reader::Open(FileSystem::Posix(), wal_dir, options);
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

inline WriterOptions Options(uint64_t segment_size, bool preallocate) {
  WriterOptions o;
  o.segment_size = segment_size;
  o.preallocate = preallocate;
  o.sync_interval = std::chrono::milliseconds(0);
  o.max_group_wait = std::chrono::microseconds(0);
  return o;
}

// Appends `batches` with a fresh Writer (one record each) and closes it.
inline void WriteWal(const std::string& wal_dir, const std::vector<std::string>& batches,
                     WriterOptions options, uint64_t next_seq = 1) {
  auto writer = Writer::Open(FileSystem::Posix(), wal_dir, options, next_seq);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (size_t i = 0; i < batches.size(); ++i) {
    auto seq = (*writer)->Append(batches[i], Durability::kBuffered);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    ASSERT_EQ(*seq, next_seq + i);
  }
  ASSERT_TRUE((*writer)->Close().ok());
}

inline std::string SegmentPath(const std::string& wal_dir, uint64_t number) {
  return JoinPath(wal_dir, SegmentFileName(number));
}

inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n + 8, '\0');
  for (size_t i = 0; i < n; i += 8) EncodeFixed64(s.data() + i, rng());
  s.resize(n);
  return s;
}

// End of the last non-zero byte of bytes[from, end), or `from` if there is none.
inline uint64_t NonZeroEndOf(std::string_view bytes, uint64_t from) {
  for (uint64_t i = bytes.size(); i > from; --i) {
    if (bytes[i - 1] != '\0') return i;
  }
  return from;
}

inline uint64_t EndOf(const WalRecord& r) { return r.offset + kRecordHeaderSize + r.stored_bytes; }

inline std::string At(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

// A few records of varying sizes: empty, small, compressible (stored compressed), random.
inline std::vector<std::string> SmallRecords() {
  return {"", "a small record", std::string(400, 'r'), RandomBytes(60, 7)};
}

// Checks that `got` are exactly the first `n` records of `all` (same seq, bytes and place).
inline void ExpectPrefix(const std::vector<WalRecord>& got, const std::vector<WalRecord>& all,
                         size_t n, const std::string& where) {
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
inline std::string WithVersion(std::string header, uint32_t version) {
  EncodeFixed32(header.data() + 8, version);
  EncodeFixed32(header.data() + 32, crc32c::Value(header.data(), 32));
  return header;
}

// A record header with a correct-looking layout and a wrong checksum.
inline std::string BadRecordHeader(uint32_t length, uint64_t seq, uint64_t segment) {
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

}  // namespace walcache::wal::reader_test

#endif  // WALCACHE_TESTS_READER_TEST_UTIL_H_
