// PowerLossLedger::PowerLoss: the power cut — every unsynced byte and directory change the
// ledger recorded is taken back (see power_loss_file_system.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "checker/power_loss_file_system.h"
#include "checker/power_loss_region.h"
#include "util/status_macros.h"

namespace walcache {

using namespace power_loss_internal;  // NOLINT: the ledger's own helpers

// ---- The power cut. ----

uint64_t PowerLossLedger::RestoreFile(int f, PowerLossTear tear, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const FileSlot& slot = Files()[f];
  const std::string path(slot.path[slot.which & 1]);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  const uint64_t cur = static_cast<uint64_t>(st.st_size);
  const uint64_t durable = slot.durable_size;
  if (slot.rocks != 0) {
    if (cur <= durable) return 0;
    uint64_t keep = durable;
    if (tear != PowerLossTear::kDrop) {  // a prefix of the unsynced tail, at a sector boundary
      std::vector<uint64_t> cuts{durable};
      for (uint64_t b = (durable / kSector + 1) * kSector; b < cur; b += kSector) cuts.push_back(b);
      cuts.push_back(cur);
      keep = cuts[rng() % cuts.size()];
    }
    if (keep < cur) (void)::truncate(path.c_str(), static_cast<off_t>(keep));
    return cur - keep;
  }
  std::vector<std::pair<uint64_t, const SectorSlot*>> dirty;
  if (auto it = sectors_.find(f); it != sectors_.end()) {
    for (const auto& [s, i] : it->second) dirty.emplace_back(s, &Sectors()[i]);
  }
  // Which sectors within the current size keep what they hold now (the cut of an unsynced
  // truncate, past the current size, always comes back).
  std::vector<bool> survives(dirty.size(), false);
  size_t live = 0;
  while (live < dirty.size() && dirty[live].first * kSector < cur) ++live;
  const uint64_t lo = slot.last_off, len = slot.last_len;
  uint64_t flip_at = UINT64_MAX;  // kPayload: where the damage starts
  switch (tear) {
    case PowerLossTear::kDrop:
    case PowerLossTear::kGarbage:
      break;
    case PowerLossTear::kSector: {
      const size_t k = rng() % (live + 1);
      for (size_t i = 0; i < k; ++i) survives[i] = true;
      break;
    }
    case PowerLossTear::kScatter:
      for (size_t i = 0; i < live; ++i) survives[i] = (rng() & 1) != 0;
      break;
    case PowerLossTear::kPayload: {
      if (len < 2) break;
      const uint64_t from = len > 64 ? 64 : len / 2;
      flip_at = lo + from + rng() % (len - from);
      for (size_t i = 0; i < live; ++i) survives[i] = dirty[i].first * kSector <= flip_at;
      break;
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t lost = 0, final_size = durable;
  for (size_t i = 0; i < dirty.size(); ++i) {
    const uint64_t start = dirty[i].first * kSector;
    const SectorSlot& s = *dirty[i].second;
    char pre[kSector] = {};
    std::memcpy(pre, s.pre, std::min<size_t>(s.pre_len, kSector));
    if (!survives[i]) {
      WriteAll(fd, start, pre, kSector);
      lost += kSector;
      continue;
    }
    if (start <= flip_at && flip_at < start + kSector) {
      // The torn sector of kPayload: the 8 bytes from flip_at are flipped, the rest reverts.
      char now[kSector] = {};
      const int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      (void)ReadSector(rfd, dirty[i].first, now);
      if (rfd >= 0) ::close(rfd);
      const uint64_t at = flip_at - start;
      const uint64_t flip_end = std::min<uint64_t>({at + 8, kSector, lo + len - start});
      for (uint64_t b = at; b < flip_end; ++b) now[b] = static_cast<char>(now[b] ^ (rng() | 1));
      std::memcpy(now + flip_end, pre + flip_end, kSector - flip_end);
      WriteAll(fd, start, now, kSector);
      lost += kSector - flip_end;
      final_size = std::max(final_size, std::min(cur, start + flip_end));
      continue;
    }
    final_size = std::max(final_size, std::min(cur, start + kSector));
  }
  if (tear == PowerLossTear::kGarbage && len > 0 && lo < final_size) {
    std::string junk(std::min(len, final_size - lo), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    WriteAll(fd, lo, junk.data(), junk.size());
  }
  (void)::ftruncate(fd, static_cast<off_t>(final_size));
  ::close(fd);
  return lost;
}

void PowerLossLedger::ResetRegion() {
  FileSlot* files = Files();
  SectorSlot* sectors = Sectors();
  OpSlot* ops = Ops();
  for (uint32_t i = 0; i < region_->nops; ++i) Store(ops[i].state, 0);
  for (uint32_t i = 0; i < region_->nsectors; ++i) Store(sectors[i].state, 0);
  for (uint32_t i = 0; i < region_->nfiles; ++i) Store(files[i].state, 0);
}

uint64_t PowerLossLedger::PowerLoss(PowerLossTear tear, uint64_t seed) {
  std::unique_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return 0;
  dead_ = true;
  std::mt19937_64 rng(seed);
  // Data first, at the files' current names; then the names, newest change first.
  std::map<std::string, int> by_path(files_.begin(), files_.end());  // a stable order
  uint64_t lost = 0;
  for (const auto& [path, f] : by_path) lost += RestoreFile(f, tear, rng());
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it) {
    const OpSlot& o = Ops()[it->second];
    switch (o.kind) {
      case kCreate:
        (void)::unlink(o.path);
        break;
      case kDelete:
        (void)::rename(o.keep, o.path);
        break;
      case kRename:
        (void)::rename(o.path, o.from);
        if (o.keep[0] != '\0') (void)::rename(o.keep, o.path);
        break;
    }
  }
  ResetRegion();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(keep_dir_, ec)) {
    std::filesystem::remove_all(e.path(), ec);
  }
  // What is on disk now counts as durable; this process's later calls fail (dead_).
  files_.clear();
  sectors_.clear();
  ops_.clear();
  return lost;
}

}  // namespace walcache
