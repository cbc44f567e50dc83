// FeedRetention: what keeps WAL segments for the change feed (docs/change-feed.md) after a
// checkpoint covers them: the directory's retention bytes and its registered consumers'
// positions, both kept in DIR/FEED (a fields file, util/fields_file.h), and the pins of feed reads
// in progress. Checkpoints delete segments through DeleteSegments, under this class's lock, and
// a reader takes its pin under the same lock before it lists the segments: so a segment a pinned
// reader listed is never deleted under it, and what was deleted before the pin is simply not
// listed (the reader reports the gap).
//
// It also keeps the directory's history identity (docs/change-feed.md, "History"): a random id
// that names the sequence of transactions the updateIds count, renewed by whatever gives
// updateIds again to other transactions (a repair that cuts acknowledged transactions off the
// WAL's tail), with the ids it replaced and how far each agrees with the current one.
//
// DIR/FEED:
//   retain_bytes N          Options::wal_retention_bytes, as the last open that set it left it
//   consumer:NAME SEQ       a registered consumer has handled every transaction up to SEQ
//   history ID              the current history's id (decimal, never 0); absent until a feed
//                           read or a cut needed one
//   history_from:ID SEQ     an earlier history, which agrees with the current one up to SEQ
//   crc32c N                last: CRC-32C of the lines before it; a file without it, or with
//                           another value, is damaged (Corruption), never read as a shorter one
//
// Thread-safety: thread-safe. mu_ is below checkpoint_mu_ and independent of commit_mu_ (never
// held with it); it is held across segment deletion and DIR/FEED writes (file I/O, no waiting on
// other locks).
#ifndef WALCACHE_ENGINE_FEED_RETENTION_H_
#define WALCACHE_ENGINE_FEED_RETENTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/file_system.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "walcache/result.h"

namespace walcache::engine {

class FeedRetention {
 public:
  // Reads DIR/FEED (missing: nothing retained). `set_bytes` (Options::wal_retention_bytes), if
  // given and different, replaces the stored retention bytes, and DIR/FEED is written, unless
  // `read_only`. Corruption for a malformed DIR/FEED; I/O errors.
  static Result<std::unique_ptr<FeedRetention>> Open(FileSystem* fs, std::string dir,
                                                     std::optional<uint64_t> set_bytes,
                                                     bool read_only);

  // Keeps every segment holding a record after `from` while it lives.
  class Pin {
   public:
    Pin(Pin&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), from_(o.from_) {}
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    Pin& operator=(Pin&&) = delete;
    ~Pin();

   private:
    friend class FeedRetention;
    Pin(FeedRetention* owner, uint64_t from) : owner_(owner), from_(from) {}
    FeedRetention* owner_;
    uint64_t from_;
  };
  Pin PinFrom(uint64_t from) EXCLUDES(mu_);

  // SetFeedPosition / RemoveFeedConsumer (cache.h): change the consumers and replace DIR/FEED
  // (synced) before returning; on a write error nothing changes in memory.
  Status SetPosition(std::string_view name, uint64_t update_id) EXCLUDES(mu_);
  Status Remove(std::string_view name) EXCLUDES(mu_);
  std::vector<std::pair<std::string, uint64_t>> Consumers() const EXCLUDES(mu_);
  uint64_t retain_bytes() const EXCLUDES(mu_);

  // Runs `del(covered, retain_bytes)` under the lock, where covered = min(checkpoint_seq, every
  // consumer's position, every pin's from): del may delete the segments whose records are all at
  // or below `covered` (wal::DeleteCoveredSegments). Returns what `del` returned.
  Result<uint64_t> DeleteSegments(
      uint64_t checkpoint_seq,
      const std::function<Result<uint64_t>(uint64_t covered, uint64_t retain_bytes)>& del)
      EXCLUDES(mu_);

  // The current history's id. A directory without one gets one now (DIR/FEED written, synced),
  // unless read-only: then 0, "none recorded". IOError if DIR/FEED cannot be written.
  Result<uint64_t> History() EXCLUDES(mu_);
  // Whether a reader whose position `from` was read under history `history` is still in the
  // current one: yes for 0 (the reader does not say), for the current id, and for an earlier id
  // that agrees with the current history up to `from` or beyond. No for an id this directory
  // does not know.
  bool Continues(uint64_t history, uint64_t from) const EXCLUDES(mu_);
  // Starts a new history after a cut that kept the transactions up to `kept_seq` and set aside
  // (or lost) acknowledged ones after it: their updateIds will be given to other transactions.
  // The current id (if any) and every earlier one are kept as agreeing up to at most kept_seq
  // (the 16 that agree furthest). DIR/FEED written, synced; on an error nothing changes.
  Status Renew(uint64_t kept_seq) EXCLUDES(mu_);

  // True for 1 to 64 characters of [A-Za-z0-9_.-].
  static bool ValidName(std::string_view name);

 private:
  // What DIR/FEED holds.
  struct Stored {
    uint64_t retain_bytes = 0;
    std::map<std::string, uint64_t, std::less<>> consumers;
    uint64_t history = 0;
    std::map<uint64_t, uint64_t> earlier;  // history id -> agrees with the current up to
  };
  FeedRetention(FileSystem* fs, std::string dir, bool read_only)
      : fs_(fs), dir_(std::move(dir)), read_only_(read_only) {}
  // A random id, neither 0 nor one `st` names.
  static uint64_t NewHistoryId(const Stored& st);
  // Replaces DIR/FEED with `next` and, once it is written, the state in memory.
  Status Replace(Stored next) REQUIRES(mu_);
  std::string Path() const;

  FileSystem* const fs_;
  const std::string dir_;
  const bool read_only_;
  mutable Mutex mu_;
  Stored stored_ GUARDED_BY(mu_);
  std::multiset<uint64_t> pins_ GUARDED_BY(mu_);
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_FEED_RETENTION_H_
