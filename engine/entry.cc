// Entry codec (see entry.h). Thread-safe.
#include "engine/entry.h"

#include "util/coding.h"

namespace walcache::engine {

void EncodeEntry(const Entry& e, std::string* dst) {
  PutVarint64(dst, e.update_id);
  PutVarint64(dst, e.expires_at);
  PutLengthPrefixed(dst, e.value);
  PutVarint32(dst, static_cast<uint32_t>(e.related.size()));
  for (const wal::RelatedKey& r : e.related) {
    PutLengthPrefixed(dst, r.key);
    PutVarint64(dst, r.update_id);
  }
}

Result<Entry> DecodeEntry(std::string_view in) {
  Entry e;
  std::string_view value;
  uint32_t n = 0;
  if (!GetVarint64(&in, &e.update_id) || !GetVarint64(&in, &e.expires_at) ||
      !GetLengthPrefixed(&in, &value) || !GetVarint32(&in, &n)) {
    return Status::Corruption("stored entry: truncated header");
  }
  if (n > in.size() / 2) return Status::Corruption("stored entry: related count exceeds input");
  e.value.assign(value);
  e.related.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    wal::RelatedKey r;
    if (!GetLengthPrefixed(&in, &key) || !GetVarint64(&in, &r.update_id)) {
      return Status::Corruption("stored entry: bad related key " + std::to_string(i));
    }
    r.key.assign(key);
    e.related.push_back(std::move(r));
  }
  if (!in.empty()) return Status::Corruption("stored entry: trailing bytes");
  return e;
}

bool PeekExpiresAt(std::string_view in, uint64_t* expires_at) {
  uint64_t update_id = 0;
  return GetVarint64(&in, &update_id) && GetVarint64(&in, expires_at);
}

}  // namespace walcache::engine
