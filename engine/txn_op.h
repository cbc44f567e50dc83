// The ops a Transaction collects before Commit. Internal to the engine.
#ifndef WALCACHE_ENGINE_TXN_OP_H_
#define WALCACHE_ENGINE_TXN_OP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "walcache/cache.h"

namespace walcache {

struct Transaction::Op {
  enum class Kind : uint8_t { kPut, kDelete, kInvalidate, kTouch, kExpect, kExpectAbsent };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;                // kPut
  uint64_t ttl_ms = 0;              // kPut, kTouch
  uint64_t update_id = 0;           // kExpect
  std::vector<RelatedKey> related;  // kPut
};

}  // namespace walcache

#endif  // WALCACHE_ENGINE_TXN_OP_H_
