// Internal to the WAL writer: the queued-record state shared by writer.cc and group_commit.cc.
// Thread-safety: a Waiter's fields are guarded by its Writer's mu_, except `record` (below).
#ifndef WALCACHE_WAL_WRITER_INTERNAL_H_
#define WALCACHE_WAL_WRITER_INTERNAL_H_

#include <memory>
#include <vector>

#include "util/mutex.h"
#include "wal/writer.h"

namespace walcache::wal {

// One submitted record. Guarded by Writer::mu_, except `record`, which only the submitting
// thread (before queueing) and then the write role that writes it touch.
struct Writer::Waiter {
  explicit Waiter(Mutex* writer_mu) : cv(writer_mu) {}

  PreparedRecord record;
  uint64_t seq = 0;
  Durability durability = Durability::kSync;
  bool done = false;      // decided: `status` is final
  bool waiting = false;   // a thread is in Wait on this record
  bool sleeping = false;  // ... and blocked on `cv` (so a notify reaches it at once)
  Status status;
  // Waiters to wake, handed to this one by the thread whose fdatasync acknowledged them all,
  // which went on to the next fdatasync (Writer::DelegateWakes). Its Wait wakes them.
  std::vector<std::shared_ptr<Waiter>> wake_others;
  CondVar cv;
};

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_WRITER_INTERNAL_H_
