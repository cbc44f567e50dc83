// Internal to the WAL writer: the queued-record state shared by writer.cc and group_commit.cc.
#ifndef WALCACHE_WAL_WRITER_INTERNAL_H_
#define WALCACHE_WAL_WRITER_INTERNAL_H_

#include <condition_variable>

#include "wal/writer.h"

namespace walcache::wal {

// One queued record. Guarded by Writer::mu_, except `record`, which only the submitting thread
// (before queueing) and then the leader that writes it touch.
struct Writer::Waiter {
  PreparedRecord record;
  uint64_t seq = 0;
  Durability durability = Durability::kSync;
  bool done = false;     // the leader has decided: `status` is final
  bool waiting = false;  // a thread is blocked in Wait on this record
  Status status;
  std::condition_variable cv;
};

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_WRITER_INTERNAL_H_
