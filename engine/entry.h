// Entry: what the cache stores under a key — the value, the updateId of the transaction that
// wrote it, its expiry, and the (source key, source updateId) pairs it was derived from — and
// its encoding as a RocksDB value (docs/storage-format.md).
//
// Thread-safety: a plain value; the codec functions are pure.
#ifndef WALCACHE_ENGINE_ENTRY_H_
#define WALCACHE_ENGINE_ENTRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/batch.h"
#include "walcache/result.h"

namespace walcache::engine {

struct Entry {
  std::string value;
  uint64_t update_id = 0;
  uint64_t expires_at = 0;  // milliseconds since the Unix epoch; 0 = never
  std::vector<wal::RelatedKey> related;

  // True iff the entry has an expiry at or before `now_ms`.
  bool ExpiredAt(uint64_t now_ms) const { return expires_at != 0 && expires_at <= now_ms; }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// varint64 update_id ‖ varint64 expires_at ‖ value (varint32 length ‖ bytes) ‖
// varint32 related count ‖ (key (varint32 length ‖ bytes) ‖ varint64 update_id)*
void EncodeEntry(const Entry& e, std::string* dst);
// Corruption unless `in` is exactly one encoding; counts are checked before reserving.
Result<Entry> DecodeEntry(std::string_view in);
// Reads only the expiry of an encoded entry (for the compaction filter); false if malformed.
bool PeekExpiresAt(std::string_view in, uint64_t* expires_at);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_ENTRY_H_
