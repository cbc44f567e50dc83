// Fuzz target: a record payload stored LZ4-compressed (wal::DecodePayload with the LZ4 flag:
// varint32 raw size ‖ LZ4 block), then the batch inside it. A record's checksum is checked
// before its payload is decoded, so the record reader target rarely gets here with damaged bytes;
// this target feeds the decompressor directly.
// Properties: an error is a Corruption value; a payload decodes to exactly its stated raw size,
// which is never above kMaxRecordPayload nor LZ4's expansion limit for the bytes given (a size
// field cannot make walcache allocate out of proportion to what it read); and compression
// round-trips: PrepareRecord of the input, compression forced, decodes back to the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "util/coding.h"
#include "wal/batch.h"
#include "wal/format.h"
#include "wal/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace wal = walcache::wal;
  const std::string_view in = walcache::fuzz::AsBytes(data, size);
  wal::RecordHeader h;
  h.type = wal::kRecordTypeBatch;
  h.flags = wal::kFlagLz4;
  h.length = static_cast<uint32_t>(size);
  walcache::Result<std::string> raw = wal::DecodePayload(h, in);
  if (raw.ok()) {
    std::string_view rest = in;
    uint32_t stated = 0;
    FUZZ_CHECK(walcache::GetVarint32(&rest, &stated), "decoded without a size prefix");
    FUZZ_CHECK(raw->size() == stated, "decoded to " + std::to_string(raw->size()) +
                                          " bytes, stated " + std::to_string(stated));
    FUZZ_CHECK(stated <= wal::kMaxRecordPayload && stated <= 255 * rest.size() + 16,
               "accepted a raw size of " + std::to_string(stated) + " from " +
                   std::to_string(rest.size()) + " bytes");
    (void)wal::Batch::Decode(*raw);  // replay's next step: any outcome but a crash is fine
  } else {
    FUZZ_CHECK(raw.status().IsCorruption(), "decode error: " + raw.status().ToString());
  }

  const wal::PreparedRecord prepared = wal::PrepareRecord(in, {.enabled = true, .threshold = 0});
  h.flags = prepared.flags;
  h.length = static_cast<uint32_t>(prepared.payload.size());
  walcache::Result<std::string> back = wal::DecodePayload(h, prepared.payload);
  FUZZ_CHECK(back.ok(), "a prepared payload does not decode: " + back.status().ToString());
  FUZZ_CHECK(*back == in, "a prepared payload decodes to other bytes");
  FUZZ_CHECK(prepared.raw_size == size, "PrepareRecord miscounts the raw size");
  return 0;
}
