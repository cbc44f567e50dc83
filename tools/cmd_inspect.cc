// `walcache inspect DIR [--exact]`: what a directory holds and how its log ends, without a lock
// and without writing anything, so it works beside the process that has the cache open.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "engine/checkpoint_failure.h"
#include "engine/recovery_record.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  bool exact = false;
  bool json = false;
};

int Run(const Args& a) {
  ProgressLine progress("inspect", a.json || !a.exact);
  Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false, &progress);
  if (!view.ok()) return CannotRun("inspect", view.status(), a.json);
  const DbView& v = **view;
  const engine::RocksStore& store = v.store();

  uint64_t wal_bytes = 0;
  for (const wal::SegmentSummary& s : v.segments()) wal_bytes += s.file_bytes;
  uint64_t edges = 0;
  Status s = store.ForEachDependent([&](std::string_view, std::string_view) { ++edges; });
  if (!s.ok()) return CannotRun("inspect", s, a.json);
  uint64_t live = 0, expired = 0;
  if (a.exact) {
    const uint64_t now = NowMs();
    s = v.Scan("", [&](const std::string&, const Entry& e) {
      ++(e.expires_at != 0 && e.expires_at <= now ? expired : live);
      progress.Update(live + expired, "entries counted");
      return true;
    });
    if (!s.ok()) return CannotRun("inspect", s, a.json);
  }
  progress.Done();
  // RocksDB's estimate counts every key: entries, index edges and the metadata records
  // (format, checkpoint_seq and, from stores written since it exists, expiry_horizon).
  const uint64_t all = store.IntProperty("rocksdb.estimate-num-keys");
  const uint64_t meta = store.expiry_horizon() != 0 ? 3 : 2;
  const uint64_t estimate = all > edges + meta ? all - edges - meta : 0;
  const std::string holder = v.holder().empty() ? LockHolder(a.dir) : v.holder();
  uint64_t opened_at = 0;
  Result<RecoveryInfo> rec = engine::ReadRecoveryRecord(FileSystem::Default(), a.dir, &opened_at);
  // Present while the cache's checkpoints fail (engine/checkpoint_failure.h): present but
  // unreadable is failing all the same, with the read error (naming the file) for the reason.
  Result<engine::CheckpointFailure> failing =
      engine::ReadCheckpointFailure(FileSystem::Default(), a.dir);
  const bool checkpoints_failing = !failing.status().IsNotFound();
  const std::string failing_unreadable = failing.ok() ? "" : failing.status().ToString();
  // Informational: a record that cannot be read is shown as such, not as none.
  const std::string rec_unreadable =
      rec.ok() || rec.status().IsNotFound() ? "" : rec.status().ToString();
  const wal::TailReport& t = v.tail();
  const std::string tail_file = RelativeTo(a.dir, t.file);
  const uint64_t sst = store.IntProperty("rocksdb.total-sst-files-size");
  const uint64_t live_sst = store.IntProperty("rocksdb.live-sst-files-size");
  const uint64_t memtables = store.IntProperty("rocksdb.cur-size-all-mem-tables");

  if (a.json) {
    JsonObject j;
    j.Add("dir", a.dir).Add("held", !holder.empty()).Add("holder", holder);
    j.Add("checkpoint_seq", v.checkpoint_seq()).Add("last_seq", v.last_seq());
    JsonObject w;
    w.Add("segments", static_cast<uint64_t>(v.segments().size()))
        .Add("bytes", wal_bytes)
        .Add("records_after_checkpoint", v.records_after_checkpoint())
        .Add("tail", wal::TailStateName(t.state))
        .Add("tail_in_progress", t.in_progress)
        .Add("tail_file", tail_file)
        .Add("tail_offset", t.valid_end)
        .Add("tail_dropped_bytes", t.dropped_bytes)
        .Add("error", v.wal_error().ok() ? "" : v.wal_error().message());
    j.AddRaw("wal", w.str());
    JsonObject k;
    if (a.exact) {
      k.Add("exact", true).Add("live", live).Add("expired", expired);
    } else {
      k.Add("exact", false).Add("estimate", estimate);
    }
    j.AddRaw("keys", k.str()).Add("dependents", edges);
    JsonObject r;
    r.Add("sst_bytes", sst).Add("live_sst_bytes", live_sst).Add("memtable_bytes", memtables);
    j.AddRaw("rocksdb", r.str());
    if (checkpoints_failing) {
      JsonObject cf;
      cf.Add("failed_at_ms", failing.ok() ? failing->failed_at_ms : 0)
          .Add("failures", failing.ok() ? failing->failures : 0)
          .Add("error", failing.ok() ? failing->error : "")
          .Add("unreadable", failing_unreadable);
      j.AddRaw("checkpoint_failing", cf.str());
    } else {
      j.AddRaw("checkpoint_failing", "null");
    }
    if (rec.ok()) {
      JsonObject lr;
      lr.Add("opened_at_ms", opened_at)
          .Add("checkpoint_seq", rec->checkpoint_seq)
          .Add("last_seq", rec->last_seq)
          .Add("records_replayed", rec->records_replayed)
          .Add("bytes_replayed", rec->bytes_replayed)
          .Add("tail_bytes_dropped", rec->tail_bytes_dropped)
          .Add("micros", rec->micros)
          .Add("summary", rec->summary);
      j.AddRaw("last_recovery", lr.str());
    } else {
      j.AddRaw("last_recovery", "null");
    }
    j.Add("last_recovery_unreadable", rec_unreadable);
    std::cout << j.str() << std::endl;
  } else {
    std::cout << "directory       " << a.dir << (holder.empty() ? " (not open)" : " (open: ")
              << holder << (holder.empty() ? "" : ")") << "\n"
              << "checkpoint_seq  " << v.checkpoint_seq() << "\n"
              << "last_seq        " << v.last_seq() << "\n"
              << "wal             " << v.segments().size() << " segments, " << wal_bytes
              << " bytes, " << v.records_after_checkpoint() << " records after the checkpoint\n"
              << "tail            " << TailWord(t);
    if (t.state != wal::TailState::kClean || t.in_progress) {
      std::cout << " at " << tail_file << ":" << t.valid_end;
    }
    if (t.in_progress) {
      std::cout << " (" << (holder.empty() ? std::string("a writer") : holder)
                << " was appending while inspect read the log)";
    }
    if (t.state == wal::TailState::kTorn) {
      std::cout << " (" << t.dropped_bytes << " bytes after seq " << t.last_seq
                << " are not a valid record: a torn write or a damaged last record; the next "
                << "open drops them)";
    }
    if (!v.wal_error().ok()) std::cout << " — " << v.wal_error().message();
    std::cout << "\n";
    if (a.exact) {
      std::cout << "keys            " << live << " live, " << expired << " expired\n";
    } else {
      std::cout << "keys            about " << estimate
                << " (RocksDB's estimate, which can be off by 2x on a small store; --exact to "
                   "count)\n";
    }
    if (failing.ok()) {
      std::cout << "checkpoints     FAILING (" << failing->failures << " failures, last at "
                << failing->failed_at_ms << " ms): " << failing->error << "\n";
    } else if (checkpoints_failing) {
      std::cout << "checkpoints     FAILING (the record is unreadable: " << failing_unreadable
                << ")\n";
    }
    std::cout << "dependents      " << edges << " index edges\n"
              << "rocksdb         " << sst << " bytes in SST files, " << memtables
              << " in memtables\n"
              << "last recovery   "
              << (rec.ok() ? rec->summary + " (the open took " + std::to_string(rec->micros) +
                                 " us in all)"
                  : rec_unreadable.empty() ? std::string("none recorded")
                                           : "unreadable: " + rec_unreadable)
              << std::endl;
  }
  return v.wal_error().ok() && !checkpoints_failing ? kExitOk : kExitProblem;
}

}  // namespace

void RegisterInspect(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "inspect", "Summarize a cache directory (read-only, no lock; works while it is open)");
  cmd->footer("Example:\n  walcache inspect /var/lib/app/cache --exact --json");
  cmd->add_option("DIR", a->dir, "Cache directory")->required();
  cmd->add_flag("--exact", a->exact, "Count live and expired keys by a full scan");
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
