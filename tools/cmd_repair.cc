// `walcache repair DIR [--yes]`: cuts a torn or corrupt WAL tail (keeping the cut bytes in named
// files beside it) and rebuilds the stored dependents index from the stored entries. Asks before
// changing anything unless --yes; refuses while a process holds DIR, and holds DIR's lock while it
// works. Prints "analyzed: ... ok_up_to=SEQ dropped=BYTES txns_cut=N ...", and says in its prompt
// and summary which transactions (how many, which seqs) the cut sets aside: every valid record
// after the cut point, found by the same screened search the reader uses (wal/tail_scan.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "engine/feed_retention.h"
#include "engine/rocks_store.h"
#include "recovery/wal_cut.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"
#include "util/status_macros.h"
#include "wal/format.h"
#include "wal/tail_scan.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  bool yes = false;
  bool json = false;
};

// The valid records that a cut sets aside: how many, and their seq range.
struct CutRecords {
  uint64_t count = 0, first_seq = 0, last_seq = 0;
  // The transactions after seq `kept` (the last one the cut keeps) that the cut sets aside.
  std::string Describe(uint64_t kept) const {
    if (count == 0) return "no readable transaction";
    const uint64_t all = last_seq - kept;
    std::string d = std::to_string(all) + (all == 1 ? " transaction" : " transactions") + " (seq " +
                    std::to_string(kept + 1) + (all == 1 ? "" : ".." + std::to_string(last_seq));
    if (count < all) d += "; " + std::to_string(count) + " of them readable";
    return d + ")";
  }
};

// Adds to *out every valid record of segment `number` in `path` from offset `from` on, skipping
// damage the way the reader's search does (bounded: linear in the file).
Status CountRecords(FileSystem* fs, const std::string& path, uint64_t number, uint64_t from,
                    uint64_t min_seq, CutRecords* out) {
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> f, fs->OpenReadable(path));
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  wal::SegmentView view(f.get(), size);
  uint64_t budget = 4 * size + (1 << 20);
  uint64_t pos = from;
  while (pos + wal::kRecordHeaderSize <= size) {
    wal::RecordHeader h;
    std::string_view payload;
    WALCACHE_ASSIGN_OR_RETURN(wal::ProbeResult p,
                              wal::ProbeRecord(&view, pos, number, &h, &payload));
    if (p == wal::ProbeResult::kValid && h.seq >= min_seq) {
      if (out->count == 0 || h.seq < out->first_seq) out->first_seq = h.seq;
      out->last_seq = std::max(out->last_seq, h.seq);
      ++out->count;
      pos += wal::kRecordHeaderSize + h.length;
      continue;
    }
    WALCACHE_ASSIGN_OR_RETURN(wal::ResyncResult r,
                              wal::FindValidRecordAfter(&view, pos, number, min_seq, budget));
    if (!r.found) break;
    budget = budget > size ? budget - size : 0;
    pos = r.offset;
  }
  return Status::OK();
}

int Run(const Args& a) {
  // With --json the lines below go into one document at the end ("lines"), and the question, if
  // asked, goes to stderr.
  std::ostringstream lines;
  std::ostream& out = a.json ? static_cast<std::ostream&>(lines) : std::cout;
  Json doc = Json::object();
  doc["dir"] = a.dir;
  auto finish = [&](std::string_view result, int code) {
    if (a.json) {
      Json all = Json::array();
      std::istringstream in(lines.str());
      for (std::string line; std::getline(in, line);) all.push_back(line);
      doc["result"] = result;
      doc["exit"] = static_cast<uint64_t>(code);
      doc["lines"] = all;
      std::cout << JsonText(doc) << std::endl;
    }
    return code;
  };
  if (Result<std::unique_ptr<DbView>> probe = DbView::Open(a.dir, false); !probe.ok()) {
    return CannotRun("repair", probe.status(), a.json);
  }
  if (const std::string holder = LockHolder(a.dir); !holder.empty()) {
    return CannotRun("repair", a.dir + " is open (" + holder + ", a.json); close it first");
  }
  FileSystem* fs = FileSystem::Posix();
  Result<std::unique_ptr<FileLock>> lock = fs->LockFile(JoinPath(a.dir, "LOCK"));
  if (!lock.ok()) return CannotRun("repair", lock.status(), a.json);

  // Analyze under the lock: nothing changes the directory from here on but this command.
  uint64_t checkpoint_seq = 0;
  wal::TailReport tail;
  std::vector<wal::SegmentSummary> segments;
  std::string wal_error;
  IndexDiff index;
  {
    ProgressLine progress("repair", false);
    Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false, &progress);
    progress.Done();
    if (!view.ok()) return CannotRun("repair", view.status(), a.json);
    checkpoint_seq = (*view)->checkpoint_seq();
    tail = (*view)->tail();
    segments = (*view)->segments();
    if (!(*view)->wal_error().ok()) wal_error = (*view)->wal_error().message();
    Result<IndexDiff> diff = DiffDependentsIndex((*view)->store());
    if (!diff.ok()) return CannotRun("repair", diff.status(), a.json);
    index = std::move(diff).value();
  }
  // Damage whose records the checkpoint already holds is cut from the front: the log then starts
  // at the first valid record after it, and nothing the checkpoint lacks is set aside.
  recovery::FrontCutPoint front;
  if (tail.state == wal::TailState::kCorrupt) {
    Result<recovery::FrontCutPoint> f = recovery::FindFrontCutPoint(fs, tail);
    if (!f.ok()) return CannotRun("repair", f.status(), a.json);
    if (f->found && f->seq <= checkpoint_seq + 1) front = *f;
  }
  const bool cut = tail.state != wal::TailState::kClean;
  // Dropped: the bytes the cut sets aside — after the cut in its segment (without preallocated
  // zeros) and the later segments whole; for a front cut, what precedes the record it keeps.
  uint64_t dropped = 0, records = 0, later_segments = 0, earlier_segments = 0;
  for (const wal::SegmentSummary& s : segments) {
    records += s.records;
    if (front.found && s.number < tail.segment) {
      dropped += s.file_bytes;
      ++earlier_segments;
    }
    if (!cut || front.found || s.number <= tail.segment) continue;
    dropped += s.file_bytes;
    ++later_segments;
  }
  if (front.found) dropped += front.offset;
  if (cut && !front.found && !tail.file.empty()) {  // what follows the cut, as CutWal keeps it
    Result<std::unique_ptr<ReadableFile>> f = fs->OpenReadable(tail.file);
    if (!f.ok()) return CannotRun("repair", f.status(), a.json);
    Result<uint64_t> size = (*f)->Size();
    if (!size.ok()) return CannotRun("repair", size.status(), a.json);
    Result<uint64_t> end = recovery::KeptEnd(f->get(), *size, tail);
    if (!end.ok()) return CannotRun("repair", end.status(), a.json);
    dropped += *end - std::min(*end, tail.valid_end);
  }
  CutRecords cut_records;
  // A front cut sets aside every record before the one it keeps: all in the checkpoint.
  const uint64_t wal_first = segments.empty() ? 0 : segments.front().first_seq;
  if (front.found && wal_first > 0) {
    cut_records = CutRecords{front.seq - wal_first, wal_first, front.seq - 1};
  }
  if (cut && !front.found) {
    for (const wal::SegmentSummary& s : segments) {
      if (s.number < tail.segment || (tail.file.empty() && s.number <= tail.segment)) continue;
      const bool at_cut = s.number == tail.segment;
      const Status c =
          CountRecords(fs, s.path, s.number, at_cut ? tail.valid_end : wal::kSegmentHeaderSize,
                       tail.last_seq + 1, &cut_records);
      if (!c.ok()) return CannotRun("repair", c, a.json);
    }
  }
  out << "analyzed: segments=" << segments.size() << " records=" << records
      << " tail=" << wal::TailStateName(tail.state) << " ok_up_to=" << tail.last_seq
      << " dropped=" << dropped << " txns_cut=" << cut_records.count
      << " later_segments=" << later_segments << " index_missing=" << index.missing.size()
      << " index_stale=" << index.stale.size() << std::endl;
  doc["tail"] = wal::TailStateName(tail.state);
  doc["ok_up_to"] = tail.last_seq;
  doc["dropped_bytes"] = dropped;
  doc["txns_cut"] = cut_records.count;
  doc["txns_cut_first_seq"] = cut_records.count == 0 ? 0
                              : front.found          ? cut_records.first_seq
                                                     : tail.last_seq + 1;
  doc["txns_cut_last_seq"] = cut_records.last_seq;
  doc["later_segments"] = later_segments;
  doc["index_missing"] = static_cast<uint64_t>(index.missing.size());
  doc["index_stale"] = static_cast<uint64_t>(index.stale.size());
  doc["damage"] = wal_error;
  if (!wal_error.empty()) out << "damage: " << wal_error << std::endl;
  // "2 damaged records, seq 5–6, already in the checkpoint at seq 9: nothing is lost".
  const uint64_t damaged_first = tail.last_seq + 1, damaged_last = front.seq - 1;
  const uint64_t damaged = front.found ? front.seq - damaged_first : 0;
  std::string covered;
  if (front.found) {
    covered = damaged == 0 ? "damaged bytes between seq " + std::to_string(tail.last_seq) +
                                 " and seq " + std::to_string(front.seq) + " (no record in them)"
              : damaged == 1
                  ? "1 damaged record, seq " + std::to_string(damaged_first)
                  : std::to_string(damaged) + " damaged records, seq " +
                        std::to_string(damaged_first) + "\u2013" + std::to_string(damaged_last);
    covered += ", already in the checkpoint at seq " + std::to_string(checkpoint_seq) +
               ": nothing is lost";
    doc["front_cut"] = true;
    doc["damaged_records"] = damaged;
    doc["damaged_first_seq"] = damaged == 0 ? 0 : damaged_first;
    doc["damaged_last_seq"] = damaged == 0 ? 0 : damaged_last;
    doc["checkpoint_seq"] = checkpoint_seq;
    doc["wal_starts_at_seq"] = front.seq;
  }
  if (!cut && index.missing.empty() && index.stale.empty()) {
    out << "nothing to repair" << std::endl;
    return finish("nothing to repair", kExitOk);
  }
  if (!a.yes) {
    std::string plan;
    if (front.found) {
      plan =
          "cut the front of the WAL: " + covered + ". " + tail.file + " will start at seq " +
          std::to_string(front.seq) + " (its record at offset " + std::to_string(front.offset) +
          "); the " + std::to_string(front.offset) + " bytes before it" +
          (earlier_segments > 0 ? " and " + std::to_string(earlier_segments) + " earlier segments"
                                : "") +
          " are kept beside it, not deleted";
    } else if (cut && tail.file.empty()) {
      plan = "remove " + JoinPath(a.dir, "wal/NEWEST") + ": no WAL segment is left for it to name";
    } else if (cut) {
      plan = "cut the WAL at " + tail.file + ":" + std::to_string(tail.valid_end) + " after seq " +
             std::to_string(tail.last_seq) + ", setting aside " +
             cut_records.Describe(tail.last_seq) + " and " + std::to_string(dropped) +
             " bytes (kept beside it, not deleted), and make wal/NEWEST name the newest segment "
             "left";
    }
    if (!index.missing.empty() || !index.stale.empty()) {
      plan += std::string(plan.empty() ? "" : " and ") + "rewrite the dependents index";
    }
    (a.json ? std::cerr : std::cout) << "This will " << plan << ". Proceed? [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "yes")) {
      out << "nothing changed" << std::endl;
      return finish("nothing changed", kExitProblem);
    }
  }
  if (front.found) {
    Result<recovery::CutReport> r =
        recovery::CutWalFront(fs, JoinPath(a.dir, "wal"), tail, segments, front);
    if (!r.ok()) return CannotRun("repair", r.status(), a.json);
    out << "cut: " << covered << "; " << tail.file << " now starts at seq " << front.seq << "; "
        << r->bytes_saved << " bytes before it and " << r->segments_moved << " earlier segments ("
        << r->bytes_moved << " bytes) kept in";
    for (const std::string& f : r->saved) out << " " << f;
    out << std::endl;
  } else if (cut) {
    // The updateIds after the cut will name other transactions: a feed reader past it must be
    // told (docs/change-feed.md, "History"). Renewed first, so a failed cut leaves at worst a
    // needless gap, never a reissued updateId under the old history.
    Result<std::unique_ptr<engine::FeedRetention>> feed =
        engine::FeedRetention::Open(fs, a.dir, std::nullopt, /*read_only=*/false);
    if (!feed.ok()) return CannotRun("repair", feed.status(), a.json);
    if (Status s = (*feed)->Renew(tail.last_seq); !s.ok()) return CannotRun("repair", s, a.json);
    Result<recovery::CutReport> r = recovery::CutWal(fs, JoinPath(a.dir, "wal"), tail, segments);
    if (!r.ok()) return CannotRun("repair", r.status(), a.json);
    out << "cut: WAL ends at seq " << tail.last_seq << "; " << cut_records.Describe(tail.last_seq)
        << " set aside; " << r->bytes_saved << " bytes after the cut and " << r->segments_moved
        << " later segments (" << r->bytes_moved << " bytes) kept in";
    for (const std::string& f : r->saved) out << " " << f;
    out << std::endl;
  }
  if (!index.missing.empty() || !index.stale.empty()) {
    engine::StoreOptions so;
    so.create_if_missing = false;
    Result<std::unique_ptr<engine::RocksStore>> store =
        engine::RocksStore::Open(JoinPath(a.dir, "rocksdb"), so);
    if (!store.ok()) return CannotRun("repair", store.status(), a.json);
    engine::RocksStore::Checkpoint cp;
    for (const IndexEdge& e : index.stale) cp.RemoveDependent(e.first, e.second);
    for (const IndexEdge& e : index.missing) cp.AddDependent(e.first, e.second);
    // The same checkpoint, so the same horizon: the WAL after it is unchanged.
    const Status s = (*store)->Apply(std::move(cp), checkpoint_seq, (*store)->expiry_horizon());
    if (!s.ok()) return CannotRun("repair", s, a.json);
    out << "index: " << index.missing.size() << " edges added, " << index.stale.size() << " removed"
        << std::endl;
  }
  // Say "repaired" only for a directory the next open takes: look at it again.
  Result<std::unique_ptr<DbView>> after = DbView::Open(a.dir, false);
  if (!after.ok()) return CannotRun("repair", after.status(), a.json);
  std::string left;
  if (!(*after)->wal_error().ok()) {
    left = (*after)->wal_error().message();
  } else if (!(*after)->segments().empty() &&
             (*after)->tail().last_seq < (*after)->checkpoint_seq()) {
    left = "checkpoint_seq " + std::to_string((*after)->checkpoint_seq()) +
           " in rocksdb/ is ahead of the WAL, which now ends at seq " +
           std::to_string((*after)->tail().last_seq) + " (the damage was in records the " +
           "checkpoint already covers); the cache still does not open";
  }
  if (!left.empty()) {
    out << "not repaired: " << left << std::endl;
    doc["not_repaired"] = left;
    return finish("not repaired", kExitProblem);
  }
  out << "repaired" << std::endl;
  return finish("repaired", kExitOk);
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
  cmd->add_flag("--json", a->json,
                "Print one JSON object at the end (the question goes to stderr)");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
