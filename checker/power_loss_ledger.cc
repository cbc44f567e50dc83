// PowerLossLedger: the region, its indexes, and what each tracked call records (see
// power_loss_file_system.h); the power cut itself is in power_loss_cut.cc.
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

// The slot arrays follow the header page, files, then sectors, then directory changes.
PowerLossLedger::FileSlot* PowerLossLedger::Files() const {
  return reinterpret_cast<FileSlot*>(reinterpret_cast<char*>(region_) + 4096);
}
PowerLossLedger::SectorSlot* PowerLossLedger::Sectors() const {
  return reinterpret_cast<SectorSlot*>(Files() + region_->nfiles);
}
PowerLossLedger::OpSlot* PowerLossLedger::Ops() const {
  return reinterpret_cast<OpSlot*>(Sectors() + region_->nsectors);
}

std::string PowerLossLedger::KeepDirFor(const std::string& cache_dir) {
  return Normalize(cache_dir) + ".powerloss-kept";
}

Result<std::unique_ptr<PowerLossLedger>> PowerLossLedger::CreateShared(
    const std::string& cache_dir) {
  return Create(cache_dir, true);
}

Result<std::unique_ptr<PowerLossLedger>> PowerLossLedger::CreatePrivate(
    const std::string& cache_dir) {
  return Create(cache_dir, false);
}

Result<std::unique_ptr<PowerLossLedger>> PowerLossLedger::Create(const std::string& cache_dir,
                                                                 bool shared) {
  static_assert(sizeof(Region) <= 4096);
  const size_t bytes =
      sizeof(FileSlot) * kFiles + sizeof(SectorSlot) * kSectors + sizeof(OpSlot) * kOps + 4096;
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return Status::IOError("mmap of the power-loss ledger", errno);
  auto* r = static_cast<Region*>(mem);  // anonymous memory starts zeroed: every slot free
  r->magic = kMagic;
  r->nfiles = kFiles;
  r->nsectors = kSectors;
  r->nops = kOps;
  const std::string keep = KeepDirFor(cache_dir);
  std::error_code ec;
  std::filesystem::remove_all(keep, ec);
  std::filesystem::create_directories(keep, ec);
  if (ec) {
    ::munmap(mem, bytes);
    return Status::IOError("cannot create " + keep + ": " + ec.message());
  }
  std::unique_ptr<PowerLossLedger> l(new PowerLossLedger(r, bytes, shared, keep));
  l->Attach();
  return l;
}

PowerLossLedger::PowerLossLedger(Region* region, size_t bytes, bool shared, std::string keep_dir)
    : region_(region), bytes_(bytes), shared_(shared), keep_dir_(std::move(keep_dir)) {}

PowerLossLedger::~PowerLossLedger() {
  std::error_code ec;
  std::filesystem::remove_all(keep_dir_, ec);
  ::munmap(region_, bytes_);
}

// ---- Indexes and slots. REQUIRES: mu_ held (Attach and Create excepted). ----

void PowerLossLedger::Attach() {
  std::lock_guard<std::mutex> l(mu_);
  dead_ = false;
  files_.clear();
  sectors_.clear();
  ops_.clear();
  free_files_.clear();
  free_sectors_.clear();
  free_ops_.clear();
  const size_t need = 4096 + sizeof(FileSlot) * region_->nfiles +
                      sizeof(SectorSlot) * region_->nsectors + sizeof(OpSlot) * region_->nops;
  if (region_->magic != kMagic || need > bytes_) {  // never: but no slot past the end, ever
    std::fprintf(stderr, "power-loss ledger: bad region header; tracking nothing\n");
    region_->nfiles = region_->nsectors = region_->nops = 0;
    return;
  }
  FileSlot* files = Files();
  SectorSlot* sectors = Sectors();
  OpSlot* ops = Ops();
  for (int i = static_cast<int>(region_->nfiles) - 1; i >= 0; --i) {
    FileSlot& f = files[i];
    if (Load(f.state) != 1) {
      free_files_.push_back(i);
      continue;
    }
    const std::string path(f.path[Load(f.which) & 1]);
    if (path.empty() || files_.count(path) > 0) {  // cannot happen; never trust it twice
      Store(f.state, 0);
      free_files_.push_back(i);
      continue;
    }
    files_[path] = i;
  }
  for (int i = static_cast<int>(region_->nsectors) - 1; i >= 0; --i) {
    SectorSlot& s = sectors[i];
    const bool live = Load(s.state) == 1 && s.file < region_->nfiles &&
                      Load(files[s.file].state) == 1 && files[s.file].rocks == 0 &&
                      sectors_[static_cast<int>(s.file)].count(s.sector) == 0;
    if (!live) {
      Store(s.state, 0);
      free_sectors_.push_back(i);
      continue;
    }
    sectors_[static_cast<int>(s.file)][s.sector] = i;
  }
  for (int i = static_cast<int>(region_->nops) - 1; i >= 0; --i) {
    OpSlot& o = ops[i];
    const uint32_t st = Load(o.state);
    if (st == 2) {
      ops_[o.seq] = i;
      continue;
    }
    if (st == 1) {
      // A process died inside this change: settle it as durable, never as lost.
      const std::string path(o.path), from(o.from), keep(o.keep);
      if (o.kind == kDelete && PathExists(keep)) {
        for (const std::string& p : {path, keep}) {
          if (auto it = files_.find(p); it != files_.end()) FreeFile(it->second);
        }
      } else if (o.kind == kRename && !PathExists(from)) {
        for (const std::string& p : {path, from, keep}) {
          if (auto it = files_.find(p); it != files_.end()) FreeFile(it->second);
        }
      }
      Store(o.state, 0);
      if (!keep.empty()) (void)::unlink(keep.c_str());
    }
    free_ops_.push_back(i);
  }
}

uint64_t PowerLossLedger::NextSeq() { return ++region_->seq; }

void PowerLossLedger::Untracked(const std::string& what) {
  if (region_->untracked++ < 5) {
    std::fprintf(stderr, "power-loss ledger: %s is not tracked (no slot); it counts as durable\n",
                 what.c_str());
  }
}

uint64_t PowerLossLedger::untracked() const { return region_->untracked; }

PowerLossLedger::Counts PowerLossLedger::counts() {
  std::lock_guard<std::mutex> l(mu_);
  Counts c;
  c.files = files_.size();
  for (const auto& [f, s] : sectors_) c.sectors += s.size();
  c.dir_changes = ops_.size();
  return c;
}

int PowerLossLedger::FindFile(const std::string& path) {
  auto it = files_.find(path);
  return it == files_.end() ? -1 : it->second;
}

int PowerLossLedger::EnsureFile(const std::string& path, bool rocks, uint64_t durable_size) {
  if (int f = FindFile(path); f >= 0) return f;
  if (!Fits(path) || free_files_.empty()) {
    Untracked("file " + path);
    return -1;
  }
  const int f = free_files_.back();
  free_files_.pop_back();
  FileSlot& s = Files()[f];
  s.rocks = rocks ? 1 : 0;
  s.which = 0;
  s.durable_size = durable_size;
  s.last_off = s.last_len = 0;
  CopyPath(s.path[0], path);
  Store(s.state, 1);
  files_[path] = f;
  return f;
}

void PowerLossLedger::FreeFile(int f) {
  if (f < 0 || f >= static_cast<int>(region_->nfiles)) return;
  FileSlot& s = Files()[f];
  if (auto it = sectors_.find(f); it != sectors_.end()) {
    for (const auto& [sector, i] : it->second) {
      Store(Sectors()[i].state, 0);
      free_sectors_.push_back(i);
    }
    sectors_.erase(it);
  }
  files_.erase(std::string(s.path[s.which & 1]));
  Store(s.state, 0);
  free_files_.push_back(f);
}

void PowerLossLedger::ForgetFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  FreeFile(FindFile(path));
}

bool PowerLossLedger::CaptureSector(int f, uint64_t sector, int fd) {
  if (free_sectors_.empty()) return false;
  const int i = free_sectors_.back();
  free_sectors_.pop_back();
  SectorSlot& s = Sectors()[i];
  s.file = static_cast<uint32_t>(f);
  s.sector = sector;
  s.write_seq = region_->seq;
  s.pre_len = ReadSector(fd, sector, s.pre);
  Store(s.state, 1);
  sectors_[f][sector] = i;
  return true;
}

void PowerLossLedger::RekeyFile(const std::string& from, const std::string& to) {
  const int f = FindFile(from);
  if (f < 0) return;
  if (!Fits(to)) {  // cannot follow the file: its unsynced state counts as durable
    Untracked("rename to " + to);
    FreeFile(f);
    return;
  }
  FreeFile(FindFile(to));
  FileSlot& s = Files()[f];
  const uint32_t next = (s.which & 1) ^ 1;
  CopyPath(s.path[next], to);
  Store(s.which, next);
  files_.erase(from);
  files_[to] = f;
}

std::string PowerLossLedger::NewKeepPath() {
  return keep_dir_ + "/" + std::to_string(++region_->keep_counter);
}

int PowerLossLedger::NewOp(uint32_t kind, const std::string& path, const std::string& from,
                           const std::string& keep) {
  if (!Fits(path) || !Fits(from) || !Fits(keep) || free_ops_.empty()) {
    Untracked("directory change of " + path);
    return -1;
  }
  const int i = free_ops_.back();
  free_ops_.pop_back();
  OpSlot& o = Ops()[i];
  o.kind = kind;
  o.dirs = 1u | (kind == kRename && DirOf(from) != DirOf(path) ? 2u : 0u);
  o.seq = NextSeq();
  CopyPath(o.path, path);
  CopyPath(o.from, from);
  CopyPath(o.keep, keep);
  Store(o.state, 1);
  ops_[o.seq] = i;
  return i;
}

void PowerLossLedger::FreeOp(int op) {
  OpSlot& o = Ops()[op];
  ops_.erase(o.seq);
  Store(o.state, 0);
  free_ops_.push_back(op);
}

void PowerLossLedger::FinishOp(int op) {
  OpSlot& o = Ops()[op];
  const std::string keep(o.keep);
  FreeOp(op);
  if (!keep.empty()) {  // the kept copy is garbage now: the change is durable
    FreeFile(FindFile(keep));
    (void)::unlink(keep.c_str());
  }
}

// ---- Data. ----

Status PowerLossLedger::Alive(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  return dead_ ? Status::IOError(path + ": power lost") : Status::OK();
}

Status PowerLossLedger::Write(WritableFile* base, uint64_t offset, std::string_view data) {
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);  // held over the write: a Sync's snapshot sees all or none
  const std::string& path = base->path();
  if (dead_) return Status::IOError(path + ": power lost");
  if (data.empty()) return base->Write(offset, data);
  int f = FindFile(path);
  if (f < 0) f = EnsureFile(path, false, StatSize(path));
  if (f >= 0 && Files()[f].rocks == 0) {
    const uint64_t seq = NextSeq();
    int fd = -1;
    bool opened = false;
    std::map<uint64_t, int>& dirty = sectors_[f];
    for (uint64_t s = offset / kSector; s <= (offset + data.size() - 1) / kSector; ++s) {
      auto it = dirty.find(s);
      if (it != dirty.end()) {
        Sectors()[it->second].write_seq = seq;
        continue;
      }
      if (!opened) {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        opened = true;
      }
      if (!CaptureSector(f, s, fd)) {
        Untracked("a sector of " + path);
        break;
      }
    }
    if (fd >= 0) ::close(fd);
    FileSlot& fs = Files()[f];
    fs.last_off = offset;
    fs.last_len = data.size();
  }
  return base->Write(offset, data);
}

Status PowerLossLedger::Allocate(WritableFile* base, uint64_t offset, uint64_t len) {
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return Status::IOError(base->path() + ": power lost");
  // The size it adds is durable only with the next Sync: the slot remembers the old one.
  if (FindFile(base->path()) < 0) (void)EnsureFile(base->path(), false, StatSize(base->path()));
  return base->Allocate(offset, len);
}

Status PowerLossLedger::Truncate(WritableFile* base, uint64_t size) {
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);
  const std::string& path = base->path();
  if (dead_) return Status::IOError(path + ": power lost");
  const uint64_t cur = StatSize(path);
  int f = FindFile(path);
  if (f < 0) f = EnsureFile(path, false, cur);
  if (f >= 0 && size < cur && Files()[f].rocks == 0) {
    // Keep what the truncate cuts until it is durable. All-zero sectors need no copy: giving
    // the file its durable size back reads them as zeros again.
    const uint64_t seq = NextSeq();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::map<uint64_t, int>& dirty = sectors_[f];
    char buf[kSector];
    for (uint64_t s = size / kSector; s <= (cur - 1) / kSector; ++s) {
      auto it = dirty.find(s);
      if (it != dirty.end()) {
        Sectors()[it->second].write_seq = seq;
        continue;
      }
      const uint32_t n = ReadSector(fd, s, buf);
      if (std::all_of(buf, buf + n, [](char c) { return c == 0; })) continue;
      if (!CaptureSector(f, s, fd)) {
        Untracked("the cut of " + path);
        break;
      }
    }
    if (fd >= 0) ::close(fd);
  }
  return base->Truncate(size);
}

uint64_t PowerLossLedger::SyncBegin(const std::string& path,
                                    std::map<uint64_t, std::string>* candidates, uint64_t* size) {
  const uint64_t snap = NextSeq();
  *size = StatSize(path);
  const int f = FindFile(path);
  if (f < 0) return snap;
  auto it = sectors_.find(f);
  if (it == sectors_.end() || it->second.empty()) return snap;
  // What each dirty sector holds now is durable once the sync returns; a sector written again
  // meanwhile needs it as its new pre-image.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  char buf[kSector];
  for (const auto& [s, i] : it->second) {
    (*candidates)[s] = std::string(buf, ReadSector(fd, s, buf));
  }
  if (fd >= 0) ::close(fd);
  return snap;
}

void PowerLossLedger::SyncEnd(const std::string& path, uint64_t snap,
                              const std::map<uint64_t, std::string>& candidates, uint64_t size) {
  const int f = FindFile(path);
  if (f < 0) return;
  if (auto it = sectors_.find(f); it != sectors_.end()) {
    for (auto s = it->second.begin(); s != it->second.end();) {
      SectorSlot& slot = Sectors()[s->second];
      auto c = candidates.find(s->first);
      if (slot.write_seq <= snap) {
        Store(slot.state, 0);
        free_sectors_.push_back(s->second);
        s = it->second.erase(s);
        continue;
      }
      if (c != candidates.end()) {
        std::memcpy(slot.pre, c->second.data(), c->second.size());
        slot.pre_len = static_cast<uint32_t>(c->second.size());
      }
      ++s;
    }
    if (it->second.empty()) sectors_.erase(it);
  }
  FileSlot& fs = Files()[f];
  fs.durable_size = size;
  if (sectors_.count(f) == 0 && StatSize(path) == size) FreeFile(f);
}

Status PowerLossLedger::BeforeAppend(const std::string& path, uint64_t old_end) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return Status::IOError(path + ": power lost");
  if (FindFile(path) < 0) (void)EnsureFile(path, true, old_end);
  return Status::OK();
}

Status PowerLossLedger::AfterRocksTruncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return Status::IOError(path + ": power lost");
  // RocksDB cuts only its own preallocation; a cut into durable bytes counts as durable.
  if (const int f = FindFile(path); f >= 0) {
    FileSlot& s = Files()[f];
    s.durable_size = std::min(s.durable_size, size);
  }
  return Status::OK();
}

// ---- Directory changes. ----

int PowerLossLedger::BeginCreate(const std::string& path) { return NewOp(kCreate, path, "", ""); }

void PowerLossLedger::EndCreate(int op, bool ok) {
  if (ok) {
    Store(Ops()[op].state, 2);
  } else {
    FreeOp(op);
  }
}

int PowerLossLedger::Delete(const std::string& path, bool* tracked) {
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);
  *tracked = false;
  if (dead_) return EIO;
  if (!IsRegular(path)) return 0;  // the real call reports it
  const std::string keep = NewKeepPath();
  const int op = NewOp(kDelete, path, "", keep);
  if (op < 0) return 0;
  *tracked = true;
  if (::rename(path.c_str(), keep.c_str()) != 0) {
    const int err = errno;
    FreeOp(op);
    return err;
  }
  RekeyFile(path, keep);
  Store(Ops()[op].state, 2);
  return 0;
}

int PowerLossLedger::Rename(const std::string& from, const std::string& to, bool* tracked) {
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::lock_guard<std::mutex> l(mu_);
  *tracked = false;
  if (dead_) return EIO;
  if (!IsRegular(from)) return 0;
  const bool replaces = IsRegular(to);
  const std::string keep = replaces ? NewKeepPath() : "";
  const int op = NewOp(kRename, to, from, keep);
  if (op < 0) return 0;
  *tracked = true;
  if (replaces && ::link(to.c_str(), keep.c_str()) != 0) {
    const int err = errno;
    FreeOp(op);
    return err;
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    if (replaces) (void)::unlink(keep.c_str());
    FreeOp(op);
    return err;
  }
  if (replaces) RekeyFile(to, keep);
  RekeyFile(from, to);
  Store(Ops()[op].state, 2);
  return 0;
}

uint64_t PowerLossLedger::DirSyncBegin() { return NextSeq(); }

void PowerLossLedger::DirSyncEnd(const std::string& dir_in, uint64_t snap) {
  const std::string dir = Normalize(dir_in);
  std::vector<int> durable;
  for (const auto& [seq, i] : ops_) {
    if (seq > snap) break;
    OpSlot& o = Ops()[i];
    if (Load(o.state) != 2) continue;
    uint32_t dirs = o.dirs;
    if ((dirs & 1u) && DirOf(o.path) == dir) dirs &= ~1u;
    if ((dirs & 2u) && DirOf(o.from) == dir) dirs &= ~2u;
    o.dirs = dirs;
    if (dirs == 0) durable.push_back(i);
  }
  for (int i : durable) FinishOp(i);
}

}  // namespace walcache
