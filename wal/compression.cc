// LZ4 record compression (see compression.h). Thread-safe.
#include "wal/compression.h"

#include <lz4.h>

#include "util/coding.h"

namespace walcache::wal {

bool MaybeCompress(std::string_view raw, const CompressionOptions& options, std::string* out) {
  if (!options.enabled || raw.size() < options.threshold || raw.size() > LZ4_MAX_INPUT_SIZE) {
    return false;
  }
  const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
  std::string buf;
  PutVarint32(&buf, static_cast<uint32_t>(raw.size()));
  const size_t prefix = buf.size();
  buf.resize(prefix + static_cast<size_t>(bound));
  const int n =
      LZ4_compress_default(raw.data(), buf.data() + prefix, static_cast<int>(raw.size()), bound);
  if (n <= 0 || prefix + static_cast<size_t>(n) >= raw.size()) return false;
  buf.resize(prefix + static_cast<size_t>(n));
  *out = std::move(buf);
  return true;
}

Result<std::string> Decompress(std::string_view stored, size_t max_raw) {
  uint32_t raw_size = 0;
  if (!GetVarint32(&stored, &raw_size)) {
    return Status::Corruption("compressed payload has no valid size prefix");
  }
  // LZ4 expands at most ~255x; a larger claim is damage, whatever max_raw allows.
  const uint64_t lz4_limit = static_cast<uint64_t>(stored.size()) * 255 + 16;
  if (raw_size > max_raw || raw_size > lz4_limit || stored.size() > LZ4_MAX_INPUT_SIZE) {
    return Status::Corruption("compressed payload claims " + std::to_string(raw_size) +
                              " bytes from " + std::to_string(stored.size()));
  }
  std::string raw(raw_size, '\0');
  const int n = LZ4_decompress_safe(stored.data(), raw.data(), static_cast<int>(stored.size()),
                                    static_cast<int>(raw_size));
  if (n < 0 || static_cast<uint32_t>(n) != raw_size) {
    return Status::Corruption("LZ4 block does not decode to its stated " +
                              std::to_string(raw_size) + " bytes");
  }
  return raw;
}

}  // namespace walcache::wal
