// The WAL's on-disk layout: constants shared by the writer and the reader.
// Prose, byte diagrams and the reasons behind each choice: docs/wal-format.md.
//
// A segment file DIR/wal/<number>.wal is
//   segment header | record | record | ... | zeros (preallocated, never written)
//
// Segment header (kSegmentHeaderSize bytes, little-endian):
//   magic "WALCACHE" (8) | format version u32 | reserved u32 (0) | segment number u64 |
//   first seq u64 | crc32c of the 32 bytes before it u32
//
// Record (kRecordHeaderSize + length bytes):
//   crc32c u32 | length u32 | type u8 | flags u8 | seq u64 | segment number u64 | payload
//   crc = crc32c(payload ‖ header bytes [4, 26)): it covers every header field and the payload.
//   One record is one transaction and carries exactly one sequence number.
#ifndef WALCACHE_WAL_FORMAT_H_
#define WALCACHE_WAL_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace walcache::wal {

constexpr uint32_t kFormatVersion = 1;

constexpr char kSegmentMagic[8] = {'W', 'A', 'L', 'C', 'A', 'C', 'H', 'E'};
constexpr size_t kSegmentHeaderSize = 8 + 4 + 4 + 8 + 8 + 4;  // magic, version, reserved,
                                                              // number, first seq, crc
constexpr size_t kRecordHeaderSize = 4 + 4 + 1 + 1 + 8 + 8;   // crc, length, type, flags,
                                                              // seq, segment
// Offsets of the record header fields.
constexpr size_t kRecordLengthOffset = 4;
constexpr size_t kRecordTypeOffset = 8;
constexpr size_t kRecordFlagsOffset = 9;
constexpr size_t kRecordSeqOffset = 10;
constexpr size_t kRecordSegmentOffset = 18;

// Record types. 0 is never written, so a zero-filled (preallocated) header is never a record.
constexpr uint8_t kRecordTypeBatch = 1;

// Record flags.
constexpr uint8_t kFlagLz4 = 0x01;  // payload = varint32 raw size ‖ LZ4 block
constexpr uint8_t kKnownFlags = kFlagLz4;

// Upper bound of a record's stored payload and of a batch's decoded size. Lengths read from a
// file are checked against it (and against the bytes the file holds) before any allocation.
constexpr uint32_t kMaxRecordPayload = 256u << 20;

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_FORMAT_H_
