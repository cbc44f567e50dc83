// The power-loss ledger's insides, shared by its two source files (power_loss_ledger.cc: the
// region, the indexes, what each call records; power_loss_cut.cc: the power cut): the layout of
// the shared region's slots and the small file helpers. Not for other users.
//
// Thread-safety: as the ledger's (power_loss_file_system.h).
#ifndef WALCACHE_CHECKER_POWER_LOSS_REGION_H_
#define WALCACHE_CHECKER_POWER_LOSS_REGION_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "checker/power_loss_file_system.h"

namespace walcache {

// ---- The shared region. Plain data: it is only ever zeroed, filled and read in place. ----

struct PowerLossLedger::FileSlot {
  uint32_t state;  // 0 free, 1 in use (published last)
  uint32_t rocks;  // RocksDB's append-only file: durable_size only, no sectors
  uint32_t which;  // path[which] is the file's current name (a rename writes the other, flips)
  uint32_t reserved;
  uint64_t durable_size;
  uint64_t last_off, last_len;  // the file's last write (walcache files)
  char path[2][kMaxPath];
};

struct PowerLossLedger::SectorSlot {
  uint32_t state;  // 0 free, 1 in use
  uint32_t file;   // its FileSlot
  uint64_t sector;
  uint64_t write_seq;  // the ledger seq of the last change to it
  uint32_t pre_len;    // bytes of pre-image; the rest of the sector was past the end of the file
  uint32_t reserved;
  char pre[kSector];
};

struct PowerLossLedger::OpSlot {
  uint32_t state;  // 0 free, 1 under way (its syscall may or may not have run), 2 done
  uint32_t kind;   // kCreate, kDelete, kRename
  uint32_t dirs;   // bit 0: DirOf(path) not synced since; bit 1: DirOf(from) (cross-dir rename)
  uint32_t reserved;
  uint64_t seq;
  char path[kMaxPath];  // created / deleted file; a rename's target
  char from[kMaxPath];  // a rename's source
  char keep[kMaxPath];  // a deleted file's content; the file a rename replaced ("" if none)
};

struct PowerLossLedger::Region {
  uint64_t magic;
  uint32_t nfiles, nsectors, nops, reserved;
  uint64_t seq;           // last ledger seq handed out
  uint64_t untracked;     // changes no slot could hold
  uint64_t keep_counter;  // names in the keep directory
};

namespace power_loss_internal {

inline constexpr uint64_t kMagic = 0x57434C45444745ull;  // "WCLEDGE"
inline constexpr uint32_t kFiles = 2048, kSectors = 16384, kOps = 2048;
inline constexpr uint32_t kCreate = 1, kDelete = 2, kRename = 3;

inline uint32_t Load(const uint32_t& w) {
  return std::atomic_ref<uint32_t>(const_cast<uint32_t&>(w)).load(std::memory_order_acquire);
}
// Publishes a slot: every field written before this store is seen whole by whoever sees it.
inline void Store(uint32_t& w, uint32_t v) {
  std::atomic_ref<uint32_t>(w).store(v, std::memory_order_release);
}

inline std::string Normalize(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

inline bool Fits(const std::string& s) { return s.size() < PowerLossLedger::kMaxPath; }

inline void CopyPath(char* dst, const std::string& s) {
  std::memset(dst, 0, PowerLossLedger::kMaxPath);
  std::memcpy(dst, s.data(), s.size());
}

// The file's size, or 0 if it cannot be told.
inline uint64_t StatSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

inline bool IsRegular(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

inline bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Reads up to one sector at `sector`; returns the bytes read (0 at or past the end, or on error).
inline uint32_t ReadSector(int fd, uint64_t sector, char* out) {
  if (fd < 0) return 0;
  size_t got = 0;
  while (got < PowerLossLedger::kSector) {
    const ssize_t n = ::pread(fd, out + got, PowerLossLedger::kSector - got,
                              static_cast<off_t>(sector * PowerLossLedger::kSector + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<uint32_t>(got);
}

inline void WriteAll(int fd, uint64_t offset, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

}  // namespace power_loss_internal
}  // namespace walcache

#endif  // WALCACHE_CHECKER_POWER_LOSS_REGION_H_
