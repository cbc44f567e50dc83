// DbView: a read-only look at a walcache directory for the admin commands. It takes no lock and
// writes nothing (RocksDB opened read-only with its info log silenced; the WAL only read), so it
// works beside a live process that holds the directory.
//
// Live directories (docs/cli.md, "Reading a live cache"): the WAL reader ends cleanly, with
// tail().in_progress, where it finds an append under way, and judges damage only on bytes read
// after the record behind it (wal/reader.h). When a process holds the directory, a view that
// is not clean (a torn tail, a WAL error, an open that failed) is read again after a pause, and
// kept only when two reads in a row find the same thing: real damage is still there the second
// time, while a writer's appends, rotations and checkpoints (which delete segments and move
// checkpoint_seq) change what is found. A torn tail that keeps moving is an append in progress.
//
// The state it shows is what the next open would recover: RocksDB's checkpoint, then every WAL
// record after checkpoint_seq applied with the engine's own BatchEffects. If the WAL is corrupt
// mid-log, the state stops at the last record before the damage and wal_error() says where.
//
// Thread-safety: not thread-safe.
#ifndef WALCACHE_TOOLS_DB_VIEW_H_
#define WALCACHE_TOOLS_DB_VIEW_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/batch_effects.h"
#include "engine/rocks_store.h"
#include "tools/progress.h"
#include "wal/reader.h"

namespace walcache::tools {

struct WalRecordInfo {
  std::string file;  // relative to the cache directory, e.g. "wal/000001.wal"
  uint64_t offset = 0;
  uint64_t length = 0;  // header and stored payload
  uint64_t seq = 0;
  size_t ops = 0;
  std::vector<std::string> keys;
  uint64_t raw_bytes = 0;     // the batch, uncompressed
  uint64_t stored_bytes = 0;  // the payload as stored
  bool compressed = false;
};

class DbView {
 public:
  // NotFound: `dir` does not exist. InvalidArgument: it is not a walcache directory. Reads the
  // whole WAL; with `keep_records`, keeps a description of every valid record.
  // `progress`, if given, is told how many WAL records have been read.
  static Result<std::unique_ptr<DbView>> Open(const std::string& dir, bool keep_records,
                                              ProgressLine* progress = nullptr);

  // "pid N" if a process held the directory while it was read, else empty.
  const std::string& holder() const { return holder_; }
  // How many times the directory was read before the view settled (1 on a quiet directory).
  int reads() const { return reads_; }

  const std::string& dir() const { return dir_; }
  uint64_t checkpoint_seq() const { return store_->checkpoint_seq(); }
  uint64_t last_seq() const { return last_seq_; }
  const wal::TailReport& tail() const { return tail_; }
  const std::vector<wal::SegmentSummary>& segments() const { return segments_; }
  const std::vector<WalRecordInfo>& records() const { return records_; }
  // OK, or the error that stopped the WAL reading (mid-log corruption, an unsupported version).
  const Status& wal_error() const { return wal_error_; }
  uint64_t records_after_checkpoint() const { return replayed_; }
  const engine::RocksStore& store() const { return *store_; }

  // The entry the next open would recover for `key` (expired ones included), or empty.
  Result<std::optional<Entry>> Get(const std::string& key) const;
  // Entries whose keys start with `prefix`, in key order, expired included, WAL over RocksDB.
  // A stored entry that does not decode is passed to `on_damaged` (if given; else the scan ends
  // with its Corruption), and the scan goes on past it.
  Status Scan(const std::string& prefix,
              const std::function<bool(const std::string& key, const Entry& e)>& visit,
              const engine::RocksStore::OnDamaged& on_damaged = nullptr) const;

 private:
  DbView() = default;
  static Result<std::unique_ptr<DbView>> OpenOnce(const std::string& dir, bool keep_records,
                                                  ProgressLine* progress);
  Status ReadWal(bool keep_records, ProgressLine* progress);

  std::string dir_;
  std::unique_ptr<engine::RocksStore> store_;
  engine::Effects overlay_;  // the WAL's effects after the checkpoint
  uint64_t last_seq_ = 0;
  uint64_t replayed_ = 0;
  wal::TailReport tail_;
  std::vector<wal::SegmentSummary> segments_;
  std::vector<WalRecordInfo> records_;
  Status wal_error_;
  std::string holder_;
  int reads_ = 1;
};

// `path` relative to the cache directory `dir` ("wal/000001.wal"), or `path` if outside it.
std::string RelativeTo(const std::string& dir, const std::string& path);

// The stored dependents index against the stored entries: the edges it holds that no entry needs
// (harmless: left by entries that changed or expired), and the edges an entry needs that it lacks
// (writing that source would not invalidate that entry).
using IndexEdge = std::pair<std::string, std::string>;  // (source, dependent)
struct IndexDiff {
  uint64_t edges = 0;  // held by the index
  std::set<IndexEdge> stale, missing;
};
// Entries that do not decode are left out of it (verify reports them itself).
Result<IndexDiff> DiffDependentsIndex(const engine::RocksStore& store);

// Whether a process holds `dir` open: "pid N" from the flock on DIR/LOCK as /proc/locks lists it
// (read without taking the lock), or empty.
std::string LockHolder(const std::string& dir);

// " (pid N holds the directory)" when a process held it while `v` was read, else "".
std::string HeldBy(const DbView& v);
// The note for a tail where an append was in progress (tail().in_progress), for command `cmd`.
std::string InProgressNote(const DbView& v, std::string_view cmd);
// The tail's state in words: "clean", "torn", "corrupt", or "in progress".
std::string TailWord(const wal::TailReport& t);

// The current time in ms since the Unix epoch.
uint64_t NowMs();

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_DB_VIEW_H_
