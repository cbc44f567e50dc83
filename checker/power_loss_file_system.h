// The crash checker's power-loss simulation (docs/design.md §6): a ledger of what a power cut would
// take back, and PowerLossFileSystem, the layer over walcache's file seam that keeps it (the
// RocksDB side is checker/rocks_power_loss.h, over the same ledger). Not a mock: every call goes
// to the real files; the ledger only remembers how to undo what is not durable yet.
//
// The ledger lives in memory shared with the crash checker's parent (CreateShared, before fork),
// so unsynced state outlives the child that left it, as the page cache outlives a process: a
// SIGKILLed child's unsynced bytes, un-fsynced directory entries, truncates, renames and deletes
// are still undone when a later child loses power, and become durable when any process fsyncs
// them. What it records:
//   - per file, the durable content of every 512-byte sector written, allocated or cut by a
//     truncate since the file's last Sync (its pre-image, read before the first such change), the
//     file's durable size, and its last write (RocksDB's append-only files: the durable size only);
//   - per directory, the creates, renames and deletes since its last SyncDir, in order. A delete
//     renames the file aside into a keep directory outside the cache directory (so ListDir and
//     Exists never show it) and a rename over an existing file hard-links the old one there; the
//     kept copy is unlinked when the directory is synced, moved back when power is lost.
// PowerLoss restores all of it: every unsynced sector reverts to its pre-image except those the
// tear keeps, each file gets its durable size back, and the directory changes are undone newest
// first. Then the ledger is empty: what is on disk now counts as durable.
//
// Layout: one fixed-size region (header, then file, sector and directory-change slots, counts
// in the header); every index is bounds-checked, and a change that finds no free slot or a path
// longer than kMaxPath is left untracked (so it counts as durable) and counted in untracked().
// Only one process uses the region at a time (the parent forks a child only after the last one
// died); each slot is published by a release store of its state word after its fields, so a
// SIGKILL at any instruction leaves slots that are either whole or free, and Attach() settles the
// directory changes a dead process left half-done (as durable, never as lost).
//
// Thread-safety: PowerLossLedger and PowerLossFileSystem are thread-safe within one process.
// After PowerLoss every tracked write, sync, create, rename and delete fails with IOError.
#ifndef WALCACHE_CHECKER_POWER_LOSS_FILE_SYSTEM_H_
#define WALCACHE_CHECKER_POWER_LOSS_FILE_SYSTEM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/file_system.h"
#include "util/forwarding_file_system.h"
#include "walcache/result.h"
#include "walcache/status.h"

namespace walcache {

// What a power cut keeps of a file's unsynced sectors (sectors at absolute 512-byte boundaries
// of the file; a sector is what the disk writes atomically). The cut of an unsynced truncate
// always comes back; RocksDB's files keep a sector-aligned prefix of their unsynced tail under
// every tear but kDrop.
enum class PowerLossTear : uint8_t {
  kDrop,     // every unsynced sector reverts
  kSector,   // a prefix of the file's unsynced sectors, in file order, survives; the rest revert
  kGarbage,  // every unsynced sector reverts, but the bytes of the file's last write are random
  kPayload,  // all unsynced bytes before a point at least 64 bytes (or half) into the last write
             // survive, the 8 bytes there are flipped, and everything after reverts: a valid
             // record header over a damaged payload, which only the checksum can catch
  kScatter,  // each unsynced sector survives or reverts independently (out-of-order writeback)
};

class PowerLossLedger {
 public:
  static constexpr size_t kSector = 512;
  static constexpr size_t kMaxPath = 256;  // including the terminating NUL

  // A ledger in memory shared with every process forked after this call. `cache_dir` names the
  // directory under test; deleted files are kept in the sibling directory KeepDirFor(cache_dir),
  // which this call empties (and creates) and the destructor removes.
  static Result<std::unique_ptr<PowerLossLedger>> CreateShared(const std::string& cache_dir);
  // The same in this process's memory only (tests; a child run without a parent's ledger).
  static Result<std::unique_ptr<PowerLossLedger>> CreatePrivate(const std::string& cache_dir);
  static std::string KeepDirFor(const std::string& cache_dir);

  ~PowerLossLedger();
  PowerLossLedger(const PowerLossLedger&) = delete;
  PowerLossLedger& operator=(const PowerLossLedger&) = delete;

  // Takes over the region in a new process (after fork): rebuilds this process's indexes and
  // settles what a dead process left half-done. REQUIRES: no other live process uses it.
  void Attach();

  // Applies the power cut to the files on disk (see the file comment); returns the bytes of
  // unsynced data lost. Later tracked calls fail. Waits for tracked writes in flight.
  uint64_t PowerLoss(PowerLossTear tear, uint64_t seed);

  // Changes that no slot could hold (they count as durable).
  uint64_t untracked() const;
  // How many files, dirty sectors and directory changes the ledger holds now.
  struct Counts {
    size_t files = 0, sectors = 0, dir_changes = 0;
  };
  Counts counts();
  const std::string& keep_dir() const { return keep_dir_; }

  // --- Used by the two layers. ---
  // A positioned write of walcache's: records pre-images, then writes through `base`.
  Status Write(WritableFile* base, uint64_t offset, std::string_view data);
  Status Allocate(WritableFile* base, uint64_t offset, uint64_t len);
  Status Truncate(WritableFile* base, uint64_t size);
  // Syncs through `sync` (fdatasync); on success, what was written before it is durable.
  template <typename S, typename F>
  S Sync(const std::string& path, F sync);
  // RocksDB's appends: `old_end` is the file's size before the append.
  Status BeforeAppend(const std::string& path, uint64_t old_end);
  Status AfterRocksTruncate(const std::string& path, uint64_t size);
  // Directory changes. Each returns the errno of its failure (0: done), creating and renaming
  // through the real file system itself; `create` runs the caller's open.
  template <typename S, typename F>
  S Create(const std::string& path, bool existed, F create);
  int Delete(const std::string& path, bool* tracked);
  int Rename(const std::string& from, const std::string& to, bool* tracked);
  template <typename S, typename F>
  S SyncDir(const std::string& dir, F sync);
  // OK unless power was lost.
  Status Alive(const std::string& path);
  // Forgets a file's slot (RocksDB's O_TRUNC of an existing file: its old content is gone).
  void ForgetFile(const std::string& path);
  // Shared by every tracked mutating call; PowerLoss takes it exclusively.
  std::shared_mutex& io_mutex() { return io_mu_; }

 private:
  struct Region;
  struct FileSlot;
  struct SectorSlot;
  struct OpSlot;

  PowerLossLedger(Region* region, size_t bytes, bool shared, std::string keep_dir);
  static Result<std::unique_ptr<PowerLossLedger>> Create(const std::string& cache_dir, bool shared);

  FileSlot* Files() const;
  SectorSlot* Sectors() const;
  OpSlot* Ops() const;
  // REQUIRES: mu_ held.
  int FindFile(const std::string& path);
  int EnsureFile(const std::string& path, bool rocks, uint64_t durable_size);
  void FreeFile(int f);
  bool CaptureSector(int f, uint64_t sector, int fd);
  void RekeyFile(const std::string& from, const std::string& to);
  int NewOp(uint32_t kind, const std::string& path, const std::string& from,
            const std::string& keep);
  void FinishOp(int op);  // its directories are durable
  void FreeOp(int op);
  uint64_t NextSeq();
  uint64_t SyncBegin(const std::string& path, std::map<uint64_t, std::string>* candidates,
                     uint64_t* size);
  void SyncEnd(const std::string& path, uint64_t snap, const std::map<uint64_t, std::string>& c,
               uint64_t size);
  uint64_t DirSyncBegin();
  void DirSyncEnd(const std::string& dir, uint64_t snap);
  int BeginCreate(const std::string& path);
  void EndCreate(int op, bool ok);
  void Untracked(const std::string& what);
  std::string NewKeepPath();
  void ResetRegion();
  uint64_t RestoreFile(int f, PowerLossTear tear, uint64_t seed);

  Region* const region_;
  const size_t bytes_;
  const bool shared_;
  const std::string keep_dir_;
  std::shared_mutex io_mu_;
  std::mutex mu_;
  bool dead_ = false;
  // This process's indexes over the region, rebuilt by Attach.
  std::unordered_map<std::string, int> files_;      // path -> file slot
  std::map<int, std::map<uint64_t, int>> sectors_;  // file slot -> sector number -> sector slot
  std::vector<int> free_files_, free_sectors_, free_ops_;
  std::map<uint64_t, int> ops_;  // seq -> op slot, oldest first
};

class PowerLossFileSystem final : public ForwardingFileSystem {
 public:
  using Tear = PowerLossTear;

  // REQUIRES: `base` and `ledger` outlive this object.
  PowerLossFileSystem(FileSystem* base, PowerLossLedger* ledger)
      : ForwardingFileSystem(base), ledger_(ledger) {}

  // Applies the power cut recorded in the ledger (every layer's files); returns the bytes lost.
  uint64_t PowerLoss(Tear tear, uint64_t seed) { return ledger_->PowerLoss(tear, seed); }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override;
  Status SyncDir(const std::string& path) override;
  Status DeleteFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;

 private:
  PowerLossLedger* const ledger_;
};

// ---- Template members (the two layers' status types differ). ----

template <typename S, typename F>
S PowerLossLedger::Sync(const std::string& path, F sync) {
  std::map<uint64_t, std::string> candidates;
  uint64_t size = 0, snap = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return S::IOError(path + ": power lost");
    snap = SyncBegin(path, &candidates, &size);
  }
  S s = sync();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return S::IOError(path + ": power lost");
  SyncEnd(path, snap, candidates, size);
  return s;
}

template <typename S, typename F>
S PowerLossLedger::Create(const std::string& path, bool existed, F create) {
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return S::IOError(path + ": power lost");
  // A file that was there already keeps its directory entry; a new one may vanish.
  const int op = existed ? -1 : BeginCreate(path);
  S s = create();
  if (op >= 0) EndCreate(op, s.ok());
  return s;
}

template <typename S, typename F>
S PowerLossLedger::SyncDir(const std::string& dir, F sync) {
  uint64_t snap = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_) return S::IOError(dir + ": power lost");
    snap = DirSyncBegin();
  }
  S s = sync();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return S::IOError(dir + ": power lost");
  DirSyncEnd(dir, snap);
  return s;
}

}  // namespace walcache

#endif  // WALCACHE_CHECKER_POWER_LOSS_FILE_SYSTEM_H_
