// The change feed of CacheImpl (cache.h, docs/change-feed.md): Changes reads the WAL up to the
// visible watermark under a retention pin, starting where a recent call ended when it can;
// SetFeedPosition and RemoveFeedConsumer keep DIR/FEED.
#include <optional>
#include <string>

#include "engine/cache_impl.h"
#include "wal/changes.h"

namespace walcache::engine {

Result<ChangeBatch> CacheImpl::Changes(uint64_t from, size_t max) {
  if (max == 0) return Status::InvalidArgument("Changes: max_txns must be at least 1");
  // Every record at or below the watermark was written before it got there (and is durable under
  // its mode), so reading stops short of anything a writer may be appending.
  const uint64_t visible = tracker_->visible();
  if (from > visible) {
    // The caller saw transactions this cache no longer holds (lost in a crash under buffered
    // durability, or cut by a repair): its copy is ahead of history.
    ChangeBatch b;
    b.next_from = from;
    b.visible = visible;
    b.gap = true;
    b.oldest_from = visible;
    return b;
  }
  // Taken before the reader lists the segments: from here on no checkpoint deletes one holding a
  // record after `from`, and one deleted before is not listed (a gap).
  const FeedRetention::Pin pin = feed_->PinFrom(from);
  std::optional<wal::ReadPosition> start;
  {
    MutexLock l(&feed_hints_mu_);
    auto it = feed_hints_.find(from + 1);
    if (it != feed_hints_.end()) start = it->second;
  }
  Result<wal::ChangesRead> read = wal::ReadChanges(fs_, WalDir(), from, visible, max, start);
  if (!read.ok()) return read.status();
  if (read->next.has_value()) {
    constexpr size_t kHints = 16;
    MutexLock l(&feed_hints_mu_);
    feed_hints_[read->next->seq] = *read->next;
    while (feed_hints_.size() > kHints) feed_hints_.erase(feed_hints_.begin());
  }
  if (read->reached_end) {
    return Status::Corruption(WalDir() + ": the WAL ends after seq " +
                              std::to_string(read->batch.next_from) + " but transactions up to " +
                              std::to_string(visible) + " are visible (" + read->tail.detail + ")");
  }
  read->batch.visible = visible;
  return std::move(read->batch);
}

Status CacheImpl::SetFeedPosition(std::string_view consumer, uint64_t update_id) {
  if (options_.read_only) return Status::Aborted(dir_ + " is open read-only");
  const uint64_t visible = tracker_->visible();
  if (update_id > visible) {
    return Status::InvalidArgument("feed position " + std::to_string(update_id) +
                                   " is past the newest visible updateId " +
                                   std::to_string(visible));
  }
  return feed_->SetPosition(consumer, update_id);
}

Status CacheImpl::RemoveFeedConsumer(std::string_view consumer) {
  if (options_.read_only) return Status::Aborted(dir_ + " is open read-only");
  return feed_->Remove(consumer);
}

}  // namespace walcache::engine
