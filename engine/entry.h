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
#include "walcache/types.h"

namespace walcache::engine {

using Entry = walcache::Entry;

// True iff `e` has an expiry at or before `now_ms`.
inline bool ExpiredAt(const Entry& e, uint64_t now_ms) {
  return e.expires_at != 0 && e.expires_at <= now_ms;
}

// varint64 update_id ‖ varint64 expires_at ‖ value (varint32 length ‖ bytes) ‖
// varint32 related count ‖ (key (varint32 length ‖ bytes) ‖ varint64 update_id)*
void EncodeEntry(const Entry& e, std::string* dst);
// Corruption unless `in` is exactly one encoding; counts are checked before reserving.
Result<Entry> DecodeEntry(std::string_view in);
// Reads only the expiry of an encoded entry (for the compaction filter); false if malformed.
bool PeekExpiresAt(std::string_view in, uint64_t* expires_at);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_ENTRY_H_
