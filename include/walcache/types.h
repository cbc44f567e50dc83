// SPDX-License-Identifier: Apache-2.0
// Value types of the public API: entries and the related keys they derive from.
// Thread-safety: plain values.
#ifndef WALCACHE_TYPES_H_
#define WALCACHE_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace walcache {

// A (source key, source updateId) pair: the entry holding it was derived from `key` as it was
// at `update_id`.
struct RelatedKey {
  std::string key;
  uint64_t update_id = 0;
  friend bool operator==(const RelatedKey&, const RelatedKey&) = default;
};

// What Get returns.
struct Entry {
  std::string value;
  uint64_t update_id = 0;   // sequence number of the transaction that wrote it
  uint64_t expires_at = 0;  // milliseconds since the Unix epoch; 0 = never
  std::vector<RelatedKey> related;
  friend bool operator==(const Entry&, const Entry&) = default;
};

}  // namespace walcache

#endif  // WALCACHE_TYPES_H_
