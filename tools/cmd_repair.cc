// `walcache repair DIR [--yes]`: cuts a torn or corrupt WAL tail (keeping the cut bytes in named
// files beside it) and rebuilds the stored dependents index from the stored entries. Asks before
// changing anything unless --yes; refuses while a process holds DIR, and holds DIR's lock while it
// works. Prints "analyzed: ... ok_up_to=SEQ dropped=BYTES ...".
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "engine/rocks_store.h"
#include "recovery/wal_cut.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  bool yes = false;
};

int Run(const Args& a) {
  if (Result<std::unique_ptr<DbView>> probe = DbView::Open(a.dir, false); !probe.ok()) {
    return CannotRun("repair", probe.status());
  }
  if (const std::string holder = LockHolder(a.dir); !holder.empty()) {
    return CannotRun("repair", a.dir + " is open (" + holder + "); close it first");
  }
  FileSystem* fs = FileSystem::Default();
  Result<std::unique_ptr<FileLock>> lock = fs->LockFile(JoinPath(a.dir, "LOCK"));
  if (!lock.ok()) return CannotRun("repair", lock.status());

  // Analyze under the lock: nothing changes the directory from here on but this command.
  uint64_t checkpoint_seq = 0;
  wal::TailReport tail;
  std::vector<wal::SegmentSummary> segments;
  std::string wal_error;
  IndexDiff index;
  {
    Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false);
    if (!view.ok()) return CannotRun("repair", view.status());
    checkpoint_seq = (*view)->checkpoint_seq();
    tail = (*view)->tail();
    segments = (*view)->segments();
    if (!(*view)->wal_error().ok()) wal_error = (*view)->wal_error().message();
    Result<IndexDiff> diff = DiffDependentsIndex((*view)->store());
    if (!diff.ok()) return CannotRun("repair", diff.status());
    index = std::move(diff).value();
  }
  const bool cut = tail.state != wal::TailState::kClean;
  // Dropped: the bytes the cut sets aside — after the cut in its segment (without preallocated
  // zeros) and the later segments whole.
  uint64_t dropped = 0, records = 0, later_segments = 0;
  for (const wal::SegmentSummary& s : segments) {
    records += s.records;
    if (!cut || s.number <= tail.segment) continue;
    dropped += s.file_bytes;
    ++later_segments;
  }
  if (cut && !tail.file.empty()) {  // what follows the cut in its segment, as CutWal keeps it
    Result<std::unique_ptr<ReadableFile>> f = fs->OpenReadable(tail.file);
    if (!f.ok()) return CannotRun("repair", f.status());
    Result<uint64_t> size = (*f)->Size();
    if (!size.ok()) return CannotRun("repair", size.status());
    Result<uint64_t> end = recovery::KeptEnd(f->get(), *size, tail);
    if (!end.ok()) return CannotRun("repair", end.status());
    dropped += *end - std::min(*end, tail.valid_end);
  }
  std::cout << "analyzed: segments=" << segments.size() << " records=" << records
            << " tail=" << wal::TailStateName(tail.state) << " ok_up_to=" << tail.last_seq
            << " dropped=" << dropped << " later_segments=" << later_segments
            << " index_missing=" << index.missing.size() << " index_stale=" << index.stale.size()
            << std::endl;
  if (!wal_error.empty()) std::cout << "damage: " << wal_error << std::endl;
  if (!cut && index.missing.empty() && index.stale.empty()) {
    std::cout << "nothing to repair" << std::endl;
    return kExitOk;
  }
  if (!a.yes) {
    std::string plan;
    if (cut && tail.file.empty()) {
      plan = "remove " + JoinPath(a.dir, "wal/NEWEST") + ": no WAL segment is left for it to name";
    } else if (cut) {
      plan = "cut the WAL at " + tail.file + ":" + std::to_string(tail.valid_end) +
             " (the cut bytes are kept beside it) and make wal/NEWEST name the newest segment left";
    }
    if (!index.missing.empty() || !index.stale.empty()) {
      plan += std::string(plan.empty() ? "" : " and ") + "rewrite the dependents index";
    }
    std::cout << "This will " << plan << ". Proceed? [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "yes")) {
      std::cout << "nothing changed" << std::endl;
      return kExitProblem;
    }
  }
  if (cut) {
    Result<recovery::CutReport> r = recovery::CutWal(fs, JoinPath(a.dir, "wal"), tail, segments);
    if (!r.ok()) return CannotRun("repair", r.status());
    std::cout << "cut: WAL ends at seq " << tail.last_seq << "; " << r->bytes_saved
              << " bytes after the cut and " << r->segments_moved << " later segments ("
              << r->bytes_moved << " bytes) kept in";
    for (const std::string& f : r->saved) std::cout << " " << f;
    std::cout << std::endl;
  }
  if (!index.missing.empty() || !index.stale.empty()) {
    engine::StoreOptions so;
    so.create_if_missing = false;
    Result<std::unique_ptr<engine::RocksStore>> store =
        engine::RocksStore::Open(JoinPath(a.dir, "rocksdb"), so);
    if (!store.ok()) return CannotRun("repair", store.status());
    engine::RocksStore::Checkpoint cp;
    for (const IndexEdge& e : index.stale) cp.RemoveDependent(e.first, e.second);
    for (const IndexEdge& e : index.missing) cp.AddDependent(e.first, e.second);
    // The same checkpoint, so the same horizon: the WAL after it is unchanged.
    const Status s = (*store)->Apply(std::move(cp), checkpoint_seq, (*store)->expiry_horizon());
    if (!s.ok()) return CannotRun("repair", s);
    std::cout << "index: " << index.missing.size() << " edges added, " << index.stale.size()
              << " removed" << std::endl;
  }
  std::cout << "repaired" << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterRepair(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "repair", "Cut a torn or corrupt WAL tail (cut bytes kept) and rebuild the dependents index");
  cmd->footer(
      "Example:\n  walcache repair /var/lib/app/cache --yes\nRefuses while the cache is open.");
  cmd->add_option("DIR", a->dir, "Cache directory")->required();
  cmd->add_flag("--yes,-y", a->yes, "Do not ask before changing files");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
