// Fuzz target: the segment header decoder (wal::DecodeSegmentHeader), the first thing read from
// every WAL segment file.
// Properties: an error is a value (Corruption, or NotSupported for another format version) whose
// message names the file; a header that decodes has this build's format version and a first seq
// of at least 1; and decoding agrees with encoding: EncodeSegmentHeader of the decoded number and
// first seq gives back the input's header bytes (reserved field aside, which the writer zeroes and
// the checksum covers), and decodes to the same header.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "util/coding.h"
#include "wal/format.h"
#include "wal/segment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace wal = walcache::wal;
  const std::string_view in = walcache::fuzz::AsBytes(data, size);
  const std::string where = "fuzz/000001.wal";
  wal::SegmentHeader h;
  walcache::Status s = wal::DecodeSegmentHeader(in, where, &h);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption() || s.IsNotSupported(), "decode error: " + s.ToString());
    FUZZ_CHECK(s.message().find(where) != std::string::npos, "error does not name the file");
    return 0;
  }
  FUZZ_CHECK(h.version == wal::kFormatVersion, "accepted version " + std::to_string(h.version));
  FUZZ_CHECK(h.first_seq >= 1, "accepted first seq 0");
  const std::string encoded = wal::EncodeSegmentHeader(h.number, h.first_seq);
  FUZZ_CHECK(encoded.size() == wal::kSegmentHeaderSize, "encoded header has the wrong size");
  constexpr size_t kReserved = 12;  // magic, version: the reserved u32 follows
  if (walcache::DecodeFixed32(in.data() + kReserved) == 0) {
    FUZZ_CHECK(in.substr(0, wal::kSegmentHeaderSize) == encoded,
               "re-encoding the decoded header gives other bytes");
  }
  wal::SegmentHeader again;
  s = wal::DecodeSegmentHeader(encoded, where, &again);
  FUZZ_CHECK(s.ok(), "a re-encoded header does not decode: " + s.ToString());
  FUZZ_CHECK(
      again.version == h.version && again.number == h.number && again.first_seq == h.first_seq,
      "a re-encoded header decodes to another header");
  return 0;
}
