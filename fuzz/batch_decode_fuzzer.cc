// Fuzz target: the batch decoder (wal::Batch::Decode), which parses the payload of every WAL
// record before replay applies it.
// Properties: an error is a Corruption value, never a crash; a batch never has more ops than the
// input has byte pairs (counts are checked before anything is reserved); and what decodes
// round-trips: re-encoding it gives at most as many bytes (the encoder writes the shortest
// varints), those bytes decode to an equal batch, and encoding that batch gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "wal/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using walcache::wal::Batch;
  walcache::Result<Batch> batch = Batch::Decode(walcache::fuzz::AsBytes(data, size));
  if (!batch.ok()) {
    FUZZ_CHECK(batch.status().IsCorruption(), "decode error: " + batch.status().ToString());
    return 0;
  }
  FUZZ_CHECK(batch->size() <= size / 2,
             std::to_string(batch->size()) + " ops from " + std::to_string(size) + " bytes");
  const std::string encoded = batch->Encode();
  FUZZ_CHECK(encoded.size() <= size, "re-encoding takes " + std::to_string(encoded.size()) +
                                         " bytes, the input " + std::to_string(size));
  walcache::Result<Batch> again = Batch::Decode(encoded);
  FUZZ_CHECK(again.ok(), "a re-encoded batch does not decode: " + again.status().ToString());
  FUZZ_CHECK(*again == *batch, "a re-encoded batch decodes to a different batch");
  FUZZ_CHECK(again->Encode() == encoded, "encoding is not stable across a round trip");
  return 0;
}
