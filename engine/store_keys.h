// The RocksDB key space of a walcache store (docs/storage-format.md):
//   'e' ‖ key                                   -> Entry (engine/entry.h)
//   'd' ‖ varint32 len(source) ‖ source ‖ dependent -> "" (reverse index)
//   's' ‖ source                                -> "" (source marker: `source` has, or had,
//                                                  a stored dependent; format 2)
//   'm' ‖ name                                  -> metadata (checkpoint_seq, expiry_horizon,
//   format)
// Thread-safety: pure functions.
#ifndef WALCACHE_ENGINE_STORE_KEYS_H_
#define WALCACHE_ENGINE_STORE_KEYS_H_

#include <string>
#include <string_view>

#include "util/coding.h"

namespace walcache::engine {

constexpr char kEntryPrefix = 'e';
constexpr char kDependentPrefix = 'd';
constexpr char kMetaPrefix = 'm';
constexpr char kSourceMarkerPrefix = 's';
constexpr std::string_view kMetaCheckpointSeq = "mcheckpoint_seq";
constexpr std::string_view kMetaFormat = "mformat";
// fixed64 ms: no WAL record after checkpoint_seq was sequenced before it (expiry_filter.h).
constexpr std::string_view kMetaExpiryHorizon = "mexpiry_horizon";
// 2: source markers. A version-1 store (no markers) is upgraded at its first writable open.
constexpr uint32_t kStoreFormatVersion = 2;
constexpr uint32_t kStoreFormatWithoutMarkers = 1;

inline std::string EntryKey(std::string_view key) {
  std::string k(1, kEntryPrefix);
  k.append(key);
  return k;
}

inline std::string SourceMarkerKey(std::string_view source) {
  std::string k(1, kSourceMarkerPrefix);
  k.append(source);
  return k;
}

// The prefix shared by every reverse-index key of `source`.
inline std::string DependentPrefix(std::string_view source) {
  std::string k(1, kDependentPrefix);
  PutLengthPrefixed(&k, source);
  return k;
}

inline std::string DependentKey(std::string_view source, std::string_view dependent) {
  std::string k = DependentPrefix(source);
  k.append(dependent);
  return k;
}

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_STORE_KEYS_H_
