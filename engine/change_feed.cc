// The change feed of CacheImpl (cache.h, docs/change-feed.md): Changes reads the WAL up to the
// durable watermark (visible and fdatasynced) under a retention pin, starting where a recent call
// ended when it can, and checks the caller's history id; SetFeedPosition and RemoveFeedConsumer
// keep DIR/FEED.
#include <optional>
#include <string>

#include "engine/cache_impl.h"
#include "util/injected_bug.h"
#include "util/status_macros.h"
#include "wal/changes.h"

namespace walcache::engine {

Result<ChangeBatch> CacheImpl::Changes(uint64_t from, size_t max, uint64_t history) {
  if (max == 0) return Status::InvalidArgument("Changes: max_txns must be at least 1");
  WALCACHE_ASSIGN_OR_RETURN(const uint64_t current, feed_->History());
  // Every record at or below the watermark was written before it got there (and is durable under
  // its mode), so reading stops short of anything a writer may be appending.
  const uint64_t visible = tracker_->visible();
  auto gap = [&] {
    ChangeBatch b;
    b.next_from = from;
    b.visible = visible;
    b.history = current;
    b.gap = true;
    b.oldest_from = visible;
    return b;
  };
  // The caller saw transactions this cache no longer holds (lost with a WAL tail a repair cut,
  // or a disk that lost synced data), or read under a history that a cut ended before `from`:
  // its copy is ahead of, or beside, this history.
  if (from > visible || !feed_->Continues(history, from)) return gap();
  // Only what no crash can take back: a power loss drops buffered records not yet fdatasynced,
  // and their updateIds would then name other transactions. So sync what is visible first.
  uint64_t upto = visible;
  if (writer_ != nullptr && !BugInjected(InjectedBug::kFeedPastDurable)) {
    if (writer_->durable_seq() < visible && from < visible) {
      WALCACHE_RETURN_IF_ERROR(writer_->Sync());
    }
    upto = std::min(visible, writer_->durable_seq());
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
  Result<wal::ChangesRead> read = wal::ReadChanges(fs_, WalDir(), from, upto, max, start);
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
                              std::to_string(upto) + " are durable (" + read->tail.detail + ")");
  }
  read->batch.visible = visible;
  read->batch.history = current;
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
