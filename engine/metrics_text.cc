// MetricsText (see engine/metrics_text.h). A pure function.
#include "engine/metrics_text.h"

#include "util/prometheus_text.h"

namespace walcache::engine {
namespace {

constexpr double kNsToSeconds = 1e-9;

// One sample of Stats() per family, in CacheStats' order.
struct Scalar {
  const char* name;
  const char* type;
  const char* help;
  uint64_t CacheStats::*field;
};

constexpr Scalar kScalars[] = {
    {"walcache_last_seq", "gauge", "Newest visible updateId.", &CacheStats::last_seq},
    {"walcache_checkpoint_seq", "gauge", "RocksDB holds the state as of this updateId.",
     &CacheStats::checkpoint_seq},
    {"walcache_commits_total", "counter", "Transactions committed that wrote.",
     &CacheStats::commits},
    {"walcache_conflicts_total", "counter", "Commits refused with Conflict.",
     &CacheStats::conflicts},
    {"walcache_invalidations_total", "counter", "Entries invalidated because a source changed.",
     &CacheStats::invalidations},
    {"walcache_memory_entries", "gauge", "Keys held in memory (dirty or cached).",
     &CacheStats::memory_entries},
    {"walcache_dirty_entries", "gauge", "Keys changed since the last checkpoint.",
     &CacheStats::dirty_entries},
    {"walcache_memory_bytes", "gauge", "Bytes charged against the memory budget.",
     &CacheStats::memory_bytes},
    {"walcache_dirty_bytes", "gauge", "Bytes of the entries changed since the last checkpoint.",
     &CacheStats::dirty_bytes},
    {"walcache_evictions_total", "counter", "Clean entries dropped for the memory budget.",
     &CacheStats::evictions},
    {"walcache_expired_swept_total", "counter",
     "Expired entries dropped from memory by the sweeper.", &CacheStats::expired_swept},
    {"walcache_reads_total", "counter", "Memory lookups by Get.", &CacheStats::reads},
    {"walcache_read_hits_memory_total", "counter", "Lookups memory answered.",
     &CacheStats::read_hits_memory},
    {"walcache_read_through_total", "counter", "Entries loaded from RocksDB on a miss.",
     &CacheStats::read_through},
    {"walcache_write_stalls_total", "counter",
     "Commits that waited for a checkpoint (memory full).", &CacheStats::write_stalls},
    {"walcache_related_mismatches_total", "counter", "verify_related_on_read findings.",
     &CacheStats::related_mismatches},
    {"walcache_checkpoints_total", "counter", "Checkpoints that succeeded.",
     &CacheStats::checkpoints},
    {"walcache_checkpoint_failures_total", "counter",
     "Checkpoints that failed (the WAL keeps what they did not store).",
     &CacheStats::checkpoint_failures},
    {"walcache_wal_segments_deleted_total", "counter", "WAL segments deleted after checkpoints.",
     &CacheStats::wal_segments_deleted},
    {"walcache_wal_bytes_logged_total", "counter",
     "Batch bytes of the transactions committed since the open.", &CacheStats::wal_bytes_logged},
    {"walcache_wal_fsyncs_total", "counter", "fdatasync calls on WAL segment files, all causes.",
     &CacheStats::wal_fsyncs},
    {"walcache_index_memory_edges", "gauge",
     "Reverse-index edges in memory (versions not yet checkpointed).",
     &CacheStats::index_memory_edges},
    {"walcache_index_memory_bytes", "gauge", "Bytes of those edges (part of memory_bytes).",
     &CacheStats::index_memory_bytes},
    {"walcache_index_seeks_total", "counter", "Prefix seeks of the stored reverse index.",
     &CacheStats::index_seeks},
    {"walcache_index_cached_lists", "gauge",
     "Sources whose stored dependents list is cached in memory.", &CacheStats::index_cached_lists},
    {"walcache_index_cache_bytes", "gauge",
     "Bytes of the cached stored dependents lists (part of memory_bytes).",
     &CacheStats::index_cache_bytes},
    {"walcache_index_cache_hits_total", "counter",
     "Stored dependents lists found in the index's cache.", &CacheStats::index_cache_hits},
    {"walcache_index_cache_misses_total", "counter",
     "Stored dependents lists read from RocksDB (then cached).", &CacheStats::index_cache_misses},
    {"walcache_sequencer_store_reads_total", "counter",
     "RocksDB reads under the sequencer's lock (a checkpoint landed after the commit's own).",
     &CacheStats::sequencer_store_reads},
    {"walcache_rocksdb_memtable_bytes", "gauge", "RocksDB memtable bytes (beside the budget).",
     &CacheStats::rocksdb_memtable_bytes},
    {"walcache_rocksdb_block_cache_bytes", "gauge",
     "RocksDB block cache bytes (beside the budget).", &CacheStats::rocksdb_block_cache_bytes},
};

}  // namespace

std::string MetricsText(const CacheStats& s) {
  PrometheusText t;
  for (const Scalar& m : kScalars) {
    t.Family(m.name, m.type, m.help);
    t.Sample(m.name, {}, s.*m.field);
  }
  t.Gauge("walcache_checkpoint_failing", "1 while checkpoints fail, else 0.",
          s.checkpoint_error.empty() ? 0.0 : 1.0);

  t.Family("walcache_commit_duration_seconds", "histogram",
           "Commit() of a transaction that wrote, from the call to its return, by durability.");
  t.HistogramSamples("walcache_commit_duration_seconds", {{"durability", "sync"}}, s.commit_sync_ns,
                     kNsToSeconds);
  t.HistogramSamples("walcache_commit_duration_seconds", {{"durability", "buffered"}},
                     s.commit_buffered_ns, kNsToSeconds);
  t.Family("walcache_get_duration_seconds", "histogram",
           "Get(), by where the answer came from: memory, or a read of RocksDB.");
  t.HistogramSamples("walcache_get_duration_seconds", {{"source", "memory"}}, s.get_memory_ns,
                     kNsToSeconds);
  t.HistogramSamples("walcache_get_duration_seconds", {{"source", "rocksdb"}},
                     s.get_read_through_ns, kNsToSeconds);
  t.Family("walcache_checkpoint_duration_seconds", "histogram", "Checkpoints that succeeded.");
  t.HistogramSamples("walcache_checkpoint_duration_seconds", {}, s.checkpoint_ns, kNsToSeconds);
  t.Family("walcache_wal_fsync_duration_seconds", "histogram",
           "Every fdatasync of the WAL's records.");
  t.HistogramSamples("walcache_wal_fsync_duration_seconds", {}, s.wal_fsync_ns, kNsToSeconds);
  t.Family("walcache_wal_records_per_fsync", "histogram",
           "Records each WAL fdatasync made durable (the group commit's group size).");
  t.HistogramSamples("walcache_wal_records_per_fsync", {}, s.wal_records_per_fsync, 1.0);
  return t.Take();
}

}  // namespace walcache::engine
