// Health: a cache's failure and its checkpoints' outcomes. The first I/O error that stops writes
// is kept (health() reports it to every later call until a reopen); each checkpoint's outcome
// updates the failure count and the last error while checkpoints keep failing, and says whether
// the tools' record of a failing store (DIR/CHECKPOINT_FAILED, checkpoint_failure.h) must be
// written or cleared.
//
// Thread-safety: thread-safe; its own lock, the lowest of the cache's (engine/cache_impl.h).
#ifndef WALCACHE_ENGINE_HEALTH_H_
#define WALCACHE_ENGINE_HEALTH_H_

#include <cstdint>
#include <string>

#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "walcache/status.h"

namespace walcache::engine {

class Health {
 public:
  // OK, or the failure that stopped writes.
  Status status() const EXCLUDES(mu_);
  // Records `s` as the failure, unless one is recorded already.
  void Fail(const Status& s) EXCLUDES(mu_);

  // What a checkpoint's outcome asks of the failure record on disk.
  enum class Record { kNone, kWrite, kClear };
  struct Noted {
    Record record = Record::kNone;
    uint64_t failures = 0;  // checkpoint failures so far (for kWrite)
  };
  Noted NoteCheckpoint(const Status& s) EXCLUDES(mu_);

  // Checkpoint failures so far, and the last one's error while checkpoints keep failing ("" once
  // one succeeds).
  uint64_t checkpoint_failures() const EXCLUDES(mu_);
  std::string checkpoint_error() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  Status failed_ GUARDED_BY(mu_);
  uint64_t checkpoint_failures_ GUARDED_BY(mu_) = 0;
  std::string checkpoint_error_ GUARDED_BY(mu_);
  bool checkpoint_file_checked_ GUARDED_BY(mu_) = false;  // a checkpoint here succeeded
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_HEALTH_H_
