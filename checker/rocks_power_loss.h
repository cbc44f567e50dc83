// RocksPowerLossFs: the crash checker's power-loss layer under RocksDB (docs/design.md §6), a
// rocksdb::FileSystemWrapper over the real file system that records in a PowerLossLedger
// (checker/power_loss_file_system.h) what a power cut would take back of RocksDB's files: for each
// file appended to, its durable (last fsynced) size; and every create, rename (CURRENT, MANIFEST,
// OPTIONS, IDENTITY through RenameFile) and delete (obsolete WAL, SST, MANIFEST, OPTIONS files
// through DeleteFile) whose directory RocksDB has not fsynced since. A delete moves the file into
// the ledger's keep directory (outside DIR, so GetChildren never lists it); a rename over an
// existing file keeps the old one there. PowerLossLedger::PowerLoss then cuts each file back to
// its durable size (plus, under every tear but kDrop, a prefix of its unsynced tail ending at a
// 512-byte boundary of the file) and undoes those directory changes. Not a mock: every call
// reaches the real file system. RocksDB's files are append-only; an O_TRUNC reopen of an existing
// file (NewWritableFile) and a Truncate into durable bytes count as durable.
//
// Passed to a cache as its Seams::rocks_fs (engine/seams.h); only the crash-test child does.
//
// Thread-safety: thread-safe (the ledger's lock).
#ifndef WALCACHE_CHECKER_ROCKS_POWER_LOSS_H_
#define WALCACHE_CHECKER_ROCKS_POWER_LOSS_H_

#include <rocksdb/file_system.h>

#include <memory>
#include <string>

#include "checker/power_loss_file_system.h"

namespace walcache::checker {

class RocksPowerLossFs final : public rocksdb::FileSystemWrapper {
 public:
  // REQUIRES: `ledger` outlives this object.
  RocksPowerLossFs(const std::shared_ptr<rocksdb::FileSystem>& base, PowerLossLedger* ledger)
      : rocksdb::FileSystemWrapper(base), ledger_(ledger) {}
  static const char* kClassName() { return "WalcacheRocksPowerLossFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;

  // Applies the power cut recorded in the ledger (every layer's files); returns the bytes lost.
  uint64_t PowerLoss(PowerLossTear tear, uint64_t seed) { return ledger_->PowerLoss(tear, seed); }

 private:
  PowerLossLedger* const ledger_;
};

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_ROCKS_POWER_LOSS_H_
