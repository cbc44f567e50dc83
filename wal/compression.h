// Per-record LZ4 compression of WAL payloads: used only above a size threshold and kept only when
// it makes the record smaller. Compressed form: varint32 raw size ‖ LZ4 block.
//
// Thread-safety: pure functions.
#ifndef WALCACHE_WAL_COMPRESSION_H_
#define WALCACHE_WAL_COMPRESSION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "walcache/result.h"

namespace walcache::wal {

struct CompressionOptions {
  bool enabled = true;
  // Payloads smaller than this are stored as they are (LZ4 rarely pays on small records).
  size_t threshold = 256;
};

// Sets *out to the compressed form and returns true iff compression is enabled, raw.size() is at
// least the threshold, and the compressed form is strictly smaller than `raw`.
bool MaybeCompress(std::string_view raw, const CompressionOptions& options, std::string* out);

// Inverts MaybeCompress. Corruption unless the stored raw size is at most `max_raw` and within
// LZ4's expansion limit for the input, and the block decodes to exactly that many bytes.
Result<std::string> Decompress(std::string_view stored, size_t max_raw);

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_COMPRESSION_H_
