// Record framing (see record.h). Thread-safe.
#include "wal/record.h"

#include "util/coding.h"
#include "util/crc32c.h"

namespace walcache::wal {

void EncodeRecordHeader(const RecordHeader& h, char* dst) {
  EncodeFixed32(dst, h.crc);
  EncodeFixed32(dst + kRecordLengthOffset, h.length);
  dst[kRecordTypeOffset] = static_cast<char>(h.type);
  dst[kRecordFlagsOffset] = static_cast<char>(h.flags);
  EncodeFixed64(dst + kRecordSeqOffset, h.seq);
  EncodeFixed64(dst + kRecordSegmentOffset, h.segment);
}

RecordHeader DecodeRecordHeader(const char* src) {
  RecordHeader h;
  h.crc = DecodeFixed32(src);
  h.length = DecodeFixed32(src + kRecordLengthOffset);
  h.type = static_cast<uint8_t>(src[kRecordTypeOffset]);
  h.flags = static_cast<uint8_t>(src[kRecordFlagsOffset]);
  h.seq = DecodeFixed64(src + kRecordSeqOffset);
  h.segment = DecodeFixed64(src + kRecordSegmentOffset);
  return h;
}

uint32_t RecordChecksum(uint32_t payload_crc, const char* encoded_header) {
  return crc32c::Extend(payload_crc, encoded_header + 4, kRecordHeaderSize - 4);
}

bool PlausibleHeader(const RecordHeader& h) {
  return h.type == kRecordTypeBatch && (h.flags & ~kKnownFlags) == 0 &&
         h.length <= kMaxRecordPayload;
}

PreparedRecord PrepareRecord(std::string_view batch, const CompressionOptions& options) {
  PreparedRecord r;
  r.raw_size = batch.size();
  if (MaybeCompress(batch, options, &r.payload)) {
    r.flags = kFlagLz4;
  } else {
    r.payload.assign(batch);
  }
  r.payload_crc = crc32c::Value(r.payload);
  return r;
}

void AppendRecord(const PreparedRecord& r, uint64_t seq, uint64_t segment, std::string* dst) {
  RecordHeader h;
  h.length = static_cast<uint32_t>(r.payload.size());
  h.type = kRecordTypeBatch;
  h.flags = r.flags;
  h.seq = seq;
  h.segment = segment;
  char header[kRecordHeaderSize];
  EncodeRecordHeader(h, header);
  EncodeFixed32(header, RecordChecksum(r.payload_crc, header));
  dst->append(header, kRecordHeaderSize);
  dst->append(r.payload);
}

Result<std::string> DecodePayload(const RecordHeader& h, std::string_view payload) {
  if ((h.flags & kFlagLz4) == 0) return std::string(payload);
  return Decompress(payload, kMaxRecordPayload);
}

}  // namespace walcache::wal
