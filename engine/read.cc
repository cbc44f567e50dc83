// The read path: the one read-through, Get and Stats (see cache_impl.h).
#include <cstdio>
#include <map>

#include "engine/cache_impl.h"
#include "engine/log.h"
#include "util/kill_point.h"
#include "util/status_macros.h"

namespace walcache::engine {

Result<std::optional<Entry>> CacheImpl::ReadThrough(std::string_view key, View view, bool cache,
                                                    bool* from_store) {
  while (true) {
    std::optional<Version> v = view == View::kLatest ? mem_->ReadLatest(key) : mem_->Read(key);
    if (v.has_value()) return std::move(v->entry);
    if (from_store != nullptr) *from_store = true;
    const uint64_t gen = mem_->erase_generation(key);
    WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> stored, store_->Get(key));
    // Between RocksDB's answer and the fill, commits, checkpoints and evictions go on: the fill
    // must not cache a copy they made stale (MemTable::Fill's generation check).
    WALCACHE_KILL_POINT(kEngineReadThrough);
    // Absent, or expired: nothing worth memory (RocksDB drops it when it compacts).
    if (!stored.has_value() || !cache || Expired(*stored)) return stored;
    std::optional<Version> seen;
    switch (mem_->Fill(key, *stored, gen, &seen)) {
      case MemTable::FillResult::kCached:
        return stored;
      case MemTable::FillResult::kKnown:
        // Memory learned the key meanwhile. Readers still see RocksDB's copy or what `seen`
        // holds; the newest of all is in memory now: read it there.
        if (view == View::kVisible) return std::move(seen->entry);
        continue;
      case MemTable::FillResult::kRetry:
        continue;  // an eviction or a rewrite overtook the read: read again
    }
  }
}

Result<std::optional<Entry>> CacheImpl::Latest(std::string_view key, uint64_t now) {
  WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> e, ReadThrough(key, View::kLatest));
  if (e.has_value() && ExpiredAt(*e, now)) e.reset();
  return e;
}

Result<Entry> CacheImpl::Get(std::string_view key) {
  const uint64_t t0 = TickClock::Now();
  bool from_store = false;
  Result<Entry> e = GetUntimed(key, &from_store);
  (from_store ? get_read_through_ns_ : get_memory_ns_).Record(get_clock_.NsSince(t0));
  return e;
}

Result<Entry> CacheImpl::GetUntimed(std::string_view key, bool* from_store) {
  while (true) {
    WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> e,
                              ReadThrough(key, View::kVisible, true, from_store));
    if (!e.has_value() || Expired(*e)) return Status::NotFound(key);
    if (!options_.verify_related_on_read) return std::move(e).value();
    bool retry = false;
    for (const RelatedKey& r : e->related) {
      WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> src, ReadThrough(r.key, View::kVisible));
      const bool live = src.has_value() && !Expired(*src);
      if (live && src->update_id == r.update_id) continue;
      // The source was read after the entry: a commit in between may have changed both (one
      // transaction), or time may have expired both. Only an entry that is still the same while
      // its source is not is a real mismatch; otherwise read again.
      WALCACHE_ASSIGN_OR_RETURN(std::optional<Entry> again, ReadThrough(key, View::kVisible));
      if (!again.has_value() || Expired(*again) || again->update_id != e->update_id) {
        retry = true;
        break;
      }
      mismatches_++;
      Log(options_.log, LogLevel::kError,
          dir_ + ": related-key mismatch: '" + std::string(key) + "' (update_id " +
              std::to_string(e->update_id) + ") derives from '" + r.key + "' at " +
              std::to_string(r.update_id) + ", which is " +
              (live ? "at " + std::to_string(src->update_id) : std::string("absent")));
      if (!options_.read_only) {
        Transaction::Op expect{
            Transaction::Op::Kind::kExpect, std::string(key), {}, 0, e->update_id, {}};
        Transaction::Op inval{Transaction::Op::Kind::kInvalidate, std::string(key), {}, 0, 0, {}};
        (void)Commit({expect, inval}, options_.durability);  // a conflict: already replaced
      }
      return Status::NotFound(key);
    }
    if (!retry) return std::move(e).value();
  }
}

CacheStats CacheImpl::Stats() const {
  CacheStats s;
  s.last_seq = tracker_->visible();
  s.checkpoint_seq = store_->checkpoint_seq();
  s.commits = commits_;
  s.conflicts = conflicts_;
  s.invalidations = invalidations_;
  const MemTableStats m = mem_->Stats();
  s.memory_entries = m.keys;
  s.dirty_entries = m.dirty_keys;
  s.index_memory_edges = index_->edges();
  s.index_memory_bytes = index_->bytes();
  s.index_seeks = store_->dependent_seeks();
  const ReverseIndex::CacheCounters ic = index_->cache_counters();
  s.index_cached_lists = ic.lists;
  s.index_cache_bytes = ic.bytes;
  s.index_cache_hits = ic.hits;
  s.index_cache_misses = ic.misses;
  s.sequencer_store_reads = sequencer_store_reads_.load(std::memory_order_relaxed);
  s.memory_bytes = m.bytes + s.index_memory_bytes + s.index_cache_bytes;
  s.dirty_bytes = m.dirty_bytes;
  s.evictions = m.evictions;
  s.expired_swept = m.expired;
  s.reads = m.hits + m.misses;
  s.read_hits_memory = m.hits;
  s.read_through = m.fills - recovery_.prewarmed_entries;
  s.write_stalls = write_stalls_;
  s.related_mismatches = mismatches_;
  s.checkpoints = checkpoints_;
  s.rocksdb_memtable_bytes = store_->IntProperty("rocksdb.cur-size-all-mem-tables");
  s.rocksdb_block_cache_bytes = store_->IntProperty("rocksdb.block-cache-usage");
  s.checkpoint_failures = health_.checkpoint_failures();
  s.checkpoint_error = health_.checkpoint_error();
  s.wal_segments_deleted = segments_deleted_;
  s.wal_bytes_logged = wal_bytes_.load(std::memory_order_relaxed);
  s.wal_fsyncs = writer_ != nullptr ? writer_->stats().fsyncs : 0;
  s.commit_sync_ns = commit_sync_ns_.Snapshot();
  s.commit_buffered_ns = commit_buffered_ns_.Snapshot();
  s.get_memory_ns = get_memory_ns_.Snapshot();
  s.get_read_through_ns = get_read_through_ns_.Snapshot();
  s.checkpoint_ns = checkpoint_ns_.Snapshot();
  if (writer_ != nullptr) {
    s.wal_fsync_ns = writer_->fsync_latency();
    s.wal_records_per_fsync = writer_->records_per_fsync();
  } else {  // read-only: empty, with the buckets a writer's would have
    s.wal_fsync_ns = AtomicHistogram(AtomicHistogram::kLatencyLog2).Snapshot();
    s.wal_records_per_fsync = AtomicHistogram(AtomicHistogram::kCountLog2).Snapshot();
  }
  return s;
}

}  // namespace walcache::engine
