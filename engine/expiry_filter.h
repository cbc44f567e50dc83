// ExpiryFilter: a RocksDB compaction filter that drops stored entries whose expiry has passed,
// so that expired data leaves disk without a write from the engine. Only entry keys are
// filtered; reverse-index and metadata keys are kept (a dangling dependent of an expired source
// is harmless: the engine checks dependents before it invalidates them).
//
// Thread-safety: thread-safe (RocksDB calls it from compaction threads); the clock must be.
#ifndef WALCACHE_ENGINE_EXPIRY_FILTER_H_
#define WALCACHE_ENGINE_EXPIRY_FILTER_H_

#include <rocksdb/compaction_filter.h>

#include <cstdint>
#include <functional>

namespace walcache::engine {

class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  // `now_ms`: milliseconds since the Unix epoch.
  explicit ExpiryFilter(std::function<uint64_t()> now_ms) : now_ms_(std::move(now_ms)) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& existing_value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "walcache.ExpiryFilter"; }

 private:
  const std::function<uint64_t()> now_ms_;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_EXPIRY_FILTER_H_
