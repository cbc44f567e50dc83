// WAL records: framing a batch as a checksummed record (see format.h, docs/wal-format.md).
// PrepareRecord does the expensive part (compression, payload checksum) off any lock; the
// group-commit leader then stamps the sequence and segment numbers with AppendRecord.
//
// Thread-safety: pure functions.
#ifndef WALCACHE_WAL_RECORD_H_
#define WALCACHE_WAL_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/compression.h"
#include "wal/format.h"
#include "walcache/result.h"

namespace walcache::wal {

struct RecordHeader {
  uint32_t crc = 0;
  uint32_t length = 0;  // stored payload bytes
  uint8_t type = 0;
  uint8_t flags = 0;
  uint64_t seq = 0;
  uint64_t segment = 0;
};

// Writes kRecordHeaderSize bytes at `dst`. / Reads them from `src`.
void EncodeRecordHeader(const RecordHeader& h, char* dst);
RecordHeader DecodeRecordHeader(const char* src);

// The checksum a record stores: crc32c(payload ‖ header[4, kRecordHeaderSize)), computed from
// the payload's own crc32c and the encoded header.
uint32_t RecordChecksum(uint32_t payload_crc, const char* encoded_header);

// True iff the header's type and flags are ones this build writes and its length is within
// kMaxRecordPayload. Says nothing of the checksum.
bool PlausibleHeader(const RecordHeader& h);

// A batch made ready to log: the payload as stored (compressed or not) and its crc32c.
struct PreparedRecord {
  std::string payload;
  uint8_t flags = 0;
  uint32_t payload_crc = 0;
  size_t raw_size = 0;  // the batch's size before compression

  size_t RecordSize() const { return kRecordHeaderSize + payload.size(); }
};

// REQUIRES: batch.size() <= kMaxRecordPayload (the writer checks and refuses larger ones).
PreparedRecord PrepareRecord(std::string_view batch, const CompressionOptions& options);

// Appends the whole record (header with checksum, then payload) to `dst`.
void AppendRecord(const PreparedRecord& r, uint64_t seq, uint64_t segment, std::string* dst);

// The batch bytes of a record whose checksum was verified: the payload itself, or its
// decompression when the LZ4 flag is set.
Result<std::string> DecodePayload(const RecordHeader& h, std::string_view payload);

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_RECORD_H_
