// ExpiryFilter: a RocksDB compaction filter that drops stored entries whose expiry has passed,
// so that expired data leaves disk without a write from the engine. Only entry keys are
// filtered; reverse-index and metadata keys are kept (a dangling dependent of an expired source
// is harmless: the engine checks dependents before it invalidates them).
//
// It drops an entry only if it expired at or before the store's expiry horizon — a time no WAL
// record after the durable checkpoint was sequenced before (RocksStore::expiry_horizon) — and
// never by the clock alone. Recovery is a pure function of the checkpoint and the log (trap 4):
// a Touch logged after the checkpoint acts on the stored copy, and it found that copy live at
// its own instant, which is at or after the horizon; so nothing a record still acts on has
// expired by the horizon. An entry expired by the clock but not by the horizon stays on disk
// until a later checkpoint moves the horizon past it; readers treat it as absent meanwhile.
//
// Thread-safety: thread-safe (RocksDB calls it from compaction threads).
#ifndef WALCACHE_ENGINE_EXPIRY_FILTER_H_
#define WALCACHE_ENGINE_EXPIRY_FILTER_H_

#include <rocksdb/compaction_filter.h>

#include <atomic>
#include <cstdint>
#include <functional>

namespace walcache::engine {

class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  // `horizon_ms` (ms since the Unix epoch) must outlive the filter. `clock_ms` is read only by
  // the planted bug expiry-filter-uses-clock.
  ExpiryFilter(const std::atomic<uint64_t>* horizon_ms, std::function<uint64_t()> clock_ms)
      : horizon_ms_(horizon_ms), clock_ms_(std::move(clock_ms)) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& existing_value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "walcache.ExpiryFilter"; }

 private:
  const std::atomic<uint64_t>* const horizon_ms_;
  const std::function<uint64_t()> clock_ms_;
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_EXPIRY_FILTER_H_
