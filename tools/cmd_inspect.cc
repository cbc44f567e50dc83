// `walcache inspect DIR [--exact] [--json | --metrics]`: what a directory holds and how its log
// ends, without a lock and without writing anything, so it works beside the process that has the
// cache open. --metrics prints the same numbers as a Prometheus text exposition
// (docs/metrics.md), for a directory no process exposes. It also shows what keeps the WAL for
// the change feed (DIR/FEED: retention bytes, consumer positions), so that an operator can tell
// why the WAL does not shrink.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/checkpoint_failure.h"
#include "engine/feed_retention.h"
#include "engine/recovery_record.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"
#include "util/prometheus_text.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  bool exact = false;
  bool json = false;
  bool metrics = false;
};

// What inspect computed, for --metrics. Flags are 0 or 1.
struct Inspected {
  uint64_t held = 0;
  uint64_t checkpoint_seq = 0, last_seq = 0;
  uint64_t segments = 0, wal_bytes = 0, records_after_checkpoint = 0;
  wal::TailState tail = wal::TailState::kClean;
  uint64_t tail_dropped_bytes = 0;
  uint64_t wal_ok = 1;
  bool exact = false;
  uint64_t live = 0, expired = 0, estimate = 0;
  uint64_t edges = 0, sst = 0, live_sst = 0, memtables = 0;
  uint64_t checkpoints_failing = 0, checkpoint_failures = 0;
};

struct Gauge {
  const char* name;
  const char* help;
  uint64_t Inspected::*field;
};

constexpr Gauge kGauges[] = {
    {"walcache_dir_open", "1 if a process holds the directory's lock, else 0.", &Inspected::held},
    {"walcache_checkpoint_seq", "RocksDB holds the state as of this updateId.",
     &Inspected::checkpoint_seq},
    {"walcache_last_seq", "The newest updateId in the WAL (or the checkpoint's).",
     &Inspected::last_seq},
    {"walcache_wal_segments", "WAL segment files.", &Inspected::segments},
    {"walcache_wal_bytes", "Bytes of the WAL segment files.", &Inspected::wal_bytes},
    {"walcache_wal_records_after_checkpoint", "WAL records the next open replays.",
     &Inspected::records_after_checkpoint},
    {"walcache_wal_tail_dropped_bytes", "Bytes after the last valid record the open drops.",
     &Inspected::tail_dropped_bytes},
    {"walcache_wal_readable", "1 if the WAL reads without an error, else 0.", &Inspected::wal_ok},
    {"walcache_dependents", "Reverse-index edges stored.", &Inspected::edges},
    {"walcache_rocksdb_sst_bytes", "Bytes in RocksDB's SST files.", &Inspected::sst},
    {"walcache_rocksdb_live_sst_bytes", "Bytes in RocksDB's live SST files.", &Inspected::live_sst},
    {"walcache_rocksdb_memtable_bytes", "RocksDB memtable bytes, as this read opened it.",
     &Inspected::memtables},
    {"walcache_checkpoint_failing", "1 while checkpoints fail (DIR/CHECKPOINT_FAILED).",
     &Inspected::checkpoints_failing},
};

std::string MetricsOf(const Inspected& in, const RecoveryInfo* last_recovery,
                      uint64_t opened_at_ms) {
  PrometheusText t;
  for (const Gauge& g : kGauges) {
    t.Family(g.name, "gauge", g.help);
    t.Sample(g.name, {}, in.*g.field);
  }
  t.Family("walcache_wal_tail", "gauge", "1 for how the WAL ends: clean, torn or corrupt.");
  for (const wal::TailState state :
       {wal::TailState::kClean, wal::TailState::kTorn, wal::TailState::kCorrupt}) {
    t.Sample("walcache_wal_tail", {{"state", wal::TailStateName(state)}},
             uint64_t{in.tail == state});
  }
  if (in.exact) {
    t.Family("walcache_keys", "gauge", "Stored keys, counted by a full scan (--exact).");
    t.Sample("walcache_keys", {{"state", "live"}}, in.live);
    t.Sample("walcache_keys", {{"state", "expired"}}, in.expired);
  } else {
    t.Family("walcache_keys_estimate", "gauge", "Stored keys, RocksDB's estimate.");
    t.Sample("walcache_keys_estimate", {}, in.estimate);
  }
  t.Counter("walcache_checkpoint_failures_total",
            "Failed checkpoints of the process that last failed one, since it opened.",
            in.checkpoint_failures);
  if (last_recovery != nullptr) {  // DIR/LAST_RECOVERY
    const RecoveryInfo& r = *last_recovery;
    t.Gauge("walcache_last_recovery_timestamp_seconds", "When the last open recovered.",
            static_cast<double>(opened_at_ms) / 1e3);
    t.Gauge("walcache_last_recovery_duration_seconds", "How long the last open took.",
            static_cast<double>(r.micros) / 1e6);
    t.Family("walcache_last_recovery_records", "gauge", "WAL records the last open replayed.");
    t.Sample("walcache_last_recovery_records", {}, r.records_replayed);
    t.Family("walcache_last_recovery_bytes", "gauge", "WAL bytes the last open replayed.");
    t.Sample("walcache_last_recovery_bytes", {}, r.bytes_replayed);
    t.Family("walcache_last_recovery_tail_dropped_bytes", "gauge",
             "Torn-tail bytes the last open dropped.");
    t.Sample("walcache_last_recovery_tail_dropped_bytes", {}, r.tail_bytes_dropped);
  }
  return t.Take();
}

int Run(const Args& a) {
  ProgressLine progress("inspect", a.json || a.metrics || !a.exact);
  Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false, &progress);
  if (!view.ok()) return CannotRun("inspect", view.status(), a.json);
  const DbView& v = **view;
  const engine::RocksStore& store = v.store();

  uint64_t wal_bytes = 0;
  for (const wal::SegmentSummary& s : v.segments()) wal_bytes += s.file_bytes;
  uint64_t edges = 0;
  Status s = store.ForEachDependent([&](std::string_view, std::string_view) { ++edges; });
  if (!s.ok()) return CannotRun("inspect", s, a.json);
  Result<uint64_t> markers = store.CountSourceMarkers();
  if (!markers.ok()) return CannotRun("inspect", markers.status(), a.json);
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
  // RocksDB's estimate counts every key: entries, index edges, source markers and the metadata
  // records (format, checkpoint_seq and, from stores written since it exists, expiry_horizon).
  const uint64_t all = store.IntProperty("rocksdb.estimate-num-keys");
  const uint64_t meta = (store.expiry_horizon() != 0 ? 3 : 2) + *markers;
  const uint64_t estimate = all > edges + meta ? all - edges - meta : 0;
  const std::string holder = v.holder().empty() ? LockHolder(a.dir) : v.holder();
  uint64_t opened_at = 0;
  Result<RecoveryInfo> rec = engine::ReadRecoveryRecord(FileSystem::Posix(), a.dir, &opened_at);
  // Present while the cache's checkpoints fail (engine/checkpoint_failure.h): present but
  // unreadable is failing all the same, with the read error (naming the file) for the reason.
  Result<engine::CheckpointFailure> failing =
      engine::ReadCheckpointFailure(FileSystem::Posix(), a.dir);
  const bool checkpoints_failing = !failing.status().IsNotFound();
  const std::string failing_unreadable = failing.ok() ? "" : failing.status().ToString();
  // Informational: a record that cannot be read is shown as such, not as none.
  const std::string rec_unreadable =
      rec.ok() || rec.status().IsNotFound() ? "" : rec.status().ToString();
  // The change feed's retention (docs/change-feed.md); a malformed DIR/FEED fails the open.
  Result<std::unique_ptr<engine::FeedRetention>> feed =
      engine::FeedRetention::Open(FileSystem::Posix(), a.dir, std::nullopt, /*read_only=*/true);
  const std::string feed_error = feed.ok() ? "" : feed.status().ToString();
  const uint64_t retain_bytes = feed.ok() ? (*feed)->retain_bytes() : 0;
  const std::vector<std::pair<std::string, uint64_t>> consumers =
      feed.ok() ? (*feed)->Consumers() : std::vector<std::pair<std::string, uint64_t>>{};
  // Read-only: the stored id, 0 if no feed read or cut made one yet.
  const uint64_t history = feed.ok() ? (*feed)->History().value_or(0) : 0;
  const wal::TailReport& t = v.tail();
  const std::string tail_file = RelativeTo(a.dir, t.file);
  const uint64_t sst = store.IntProperty("rocksdb.total-sst-files-size");
  const uint64_t live_sst = store.IntProperty("rocksdb.live-sst-files-size");
  const uint64_t memtables = store.IntProperty("rocksdb.cur-size-all-mem-tables");

  if (a.metrics) {
    Inspected in;
    in.held = !holder.empty();
    in.checkpoint_seq = v.checkpoint_seq();
    in.last_seq = v.last_seq();
    in.segments = v.segments().size();
    in.wal_bytes = wal_bytes;
    in.records_after_checkpoint = v.records_after_checkpoint();
    in.tail = t.state;
    in.tail_dropped_bytes = t.state == wal::TailState::kTorn ? t.dropped_bytes : 0;
    in.wal_ok = v.wal_error().ok();
    in.exact = a.exact;
    in.live = live;
    in.expired = expired;
    in.estimate = estimate;
    in.edges = edges;
    in.sst = sst;
    in.live_sst = live_sst;
    in.memtables = memtables;
    in.checkpoints_failing = checkpoints_failing;
    in.checkpoint_failures = failing.ok() ? failing->failures : 0;
    std::cout << MetricsOf(in, rec.ok() ? &*rec : nullptr, opened_at) << std::flush;
  } else if (a.json) {
    Json j = Json::object();
    j["dir"] = a.dir;
    j["held"] = !holder.empty();
    j["holder"] = holder;
    j["checkpoint_seq"] = v.checkpoint_seq();
    j["last_seq"] = v.last_seq();
    Json w = Json::object();
    w["segments"] = static_cast<uint64_t>(v.segments().size());
    w["bytes"] = wal_bytes;
    w["records_after_checkpoint"] = v.records_after_checkpoint();
    w["tail"] = wal::TailStateName(t.state);
    w["tail_in_progress"] = t.in_progress;
    w["tail_file"] = tail_file;
    w["tail_offset"] = t.valid_end;
    w["tail_dropped_bytes"] = t.dropped_bytes;
    w["error"] = v.wal_error().ok() ? "" : v.wal_error().message();
    j["wal"] = w;
    Json f = Json::object();
    f["retain_bytes"] = retain_bytes;
    Json cs = Json::array();
    for (const auto& [name, position] : consumers) {
      Json c = Json::object();
      c["name"] = name;
      c["position"] = position;
      cs.push_back(c);
    }
    f["consumers"] = cs;
    f["history"] = history;
    f["error"] = feed_error;
    j["feed"] = f;
    Json k = Json::object();
    if (a.exact) {
      k["exact"] = true;
      k["live"] = live;
      k["expired"] = expired;
    } else {
      k["exact"] = false;
      k["estimate"] = estimate;
    }
    j["keys"] = k;
    j["dependents"] = edges;
    Json r = Json::object();
    r["sst_bytes"] = sst;
    r["live_sst_bytes"] = live_sst;
    r["memtable_bytes"] = memtables;
    j["rocksdb"] = r;
    if (checkpoints_failing) {
      Json cf = Json::object();
      cf["failed_at_ms"] = failing.ok() ? failing->failed_at_ms : 0;
      cf["failures"] = failing.ok() ? failing->failures : 0;
      cf["error"] = failing.ok() ? failing->error : "";
      cf["unreadable"] = failing_unreadable;
      j["checkpoint_failing"] = cf;
    } else {
      j["checkpoint_failing"] = nullptr;
    }
    if (rec.ok()) {
      Json lr = Json::object();
      lr["opened_at_ms"] = opened_at;
      lr["checkpoint_seq"] = rec->checkpoint_seq;
      lr["last_seq"] = rec->last_seq;
      lr["records_replayed"] = rec->records_replayed;
      lr["bytes_replayed"] = rec->bytes_replayed;
      lr["tail_bytes_dropped"] = rec->tail_bytes_dropped;
      lr["micros"] = rec->micros;
      lr["summary"] = rec->summary;
      j["last_recovery"] = lr;
    } else {
      j["last_recovery"] = nullptr;
    }
    j["last_recovery_unreadable"] = rec_unreadable;
    std::cout << JsonText(j) << std::endl;
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
    std::cout << "feed            ";
    if (!feed_error.empty()) {
      std::cout << "UNREADABLE (the next open refuses it): " << feed_error;
    } else if (retain_bytes == 0 && consumers.empty()) {
      std::cout << "nothing retains WAL segments";
    } else {
      std::cout << "retains " << retain_bytes << " bytes";
      for (const auto& [name, position] : consumers) {
        std::cout << "; consumer " << name << " at " << position << " ("
                  << (v.last_seq() > position ? v.last_seq() - position : 0) << " behind)";
      }
    }
    if (feed_error.empty() && history != 0) std::cout << "; history " << history;
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
  return v.wal_error().ok() && !checkpoints_failing && feed_error.empty() ? kExitOk : kExitProblem;
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
  cmd->add_flag("--metrics", a->metrics,
                "Print a Prometheus text exposition (format 0.0.4) instead")
      ->excludes("--json");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
