// `walcache verify DIR`: every WAL record's checksum, I1 (no live entry without its sources live at
// exactly the recorded updateIds) over the state the next open would recover, the stored
// dependents index against the stored entries, and checkpoint_seq <= the WAL's last seq.
// Read-only, no lock. Exit 0 clean, 1 problems found, 2 could not run. A torn tail is reported
// (the next open drops it) but is not a problem; corruption before the end is.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "engine/feed_retention.h"
#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  bool json = false;
};

constexpr size_t kMaxListed = 100;  // problems listed in full; the count is always exact

int Run(const Args& a) {
  ProgressLine progress("verify", a.json);
  Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false, &progress);
  if (!view.ok()) return CannotRun("verify", view.status(), a.json);
  const DbView& v = **view;
  std::vector<std::string> problems, notes;
  uint64_t problem_count = 0;
  auto problem = [&](const std::string& p) {
    if (problems.size() < kMaxListed) problems.push_back(p);
    ++problem_count;
  };

  // DIR/FEED: the open refuses one it cannot read (docs/storage-format.md), so verify says so.
  if (Result<std::unique_ptr<engine::FeedRetention>> feed = engine::FeedRetention::Open(
          FileSystem::Posix(), v.dir(), std::nullopt, /*read_only=*/true);
      !feed.ok()) {
    problem("change feed: " + feed.status().ToString() + " (the cache does not open with it)");
  }

  // The log.
  const wal::TailReport& t = v.tail();
  if (!v.wal_error().ok()) problem("WAL: " + v.wal_error().message());
  if (t.state == wal::TailState::kTorn) {
    // The bytes cannot say whether the record was acknowledged (a record is acknowledged once
    // written, and a flipped byte after that looks the same as a write cut short).
    notes.push_back("WAL tail torn or damaged: " + std::to_string(t.dropped_bytes) +
                    " bytes after " + t.file + ":" + std::to_string(t.valid_end) +
                    " are not a valid record; the next open drops them (if they held an " +
                    "acknowledged transaction, seq " + std::to_string(t.last_seq + 1) +
                    ", it is lost)" + HeldBy(v));
  }
  if (t.in_progress) notes.push_back(InProgressNote(v, "verify"));
  // What `walcache repair` set aside is kept until someone deletes it: say where.
  if (Result<std::vector<std::string>> names = FileSystem::Posix()->ListDir(JoinPath(a.dir, "wal"));
      names.ok()) {
    std::vector<std::string> kept;
    for (const std::string& n : *names) {
      if (n.find(".cut") != std::string::npos) kept.push_back(n);
    }
    std::sort(kept.begin(), kept.end());
    if (!kept.empty()) {
      std::string list;
      for (const std::string& k : kept) list += (list.empty() ? "" : ", ") + k;
      notes.push_back(std::to_string(kept.size()) +
                      " file(s) that walcache repair set aside are "
                      "kept in " +
                      JoinPath(a.dir, "wal") + ": " + list +
                      " (not part of the log; delete them once no longer needed)");
    }
  }
  if (t.state == wal::TailState::kClean && t.valid_end == 0 && !t.file.empty()) {
    notes.push_back("newest WAL segment " + t.file +
                    " has no header (created but never written, or its bytes are gone): the next "
                    "open deletes it");
  }
  if (!v.segments().empty() && v.wal_error().ok() && t.last_seq < v.checkpoint_seq()) {
    problem("checkpoint_seq " + std::to_string(v.checkpoint_seq()) +
            " is ahead of the WAL, which ends at seq " + std::to_string(t.last_seq));
  }

  // I1 over the recovered state.
  const uint64_t now = NowMs();
  std::map<std::string, uint64_t> live;  // key -> update_id
  std::vector<std::pair<std::string, std::vector<RelatedKey>>> derived;
  uint64_t entries = 0;
  Status s = v.Scan(
      "",
      [&](const std::string& key, const Entry& e) {
        progress.Update(++entries, "entries checked");
        if (e.expires_at != 0 && e.expires_at <= now) return true;
        live[key] = e.update_id;
        if (!e.related.empty()) derived.emplace_back(key, e.related);
        return true;
      },
      [&](std::string_view key, const Status& error) {
        bool hex = false;
        const std::string k = Show(key, &hex);
        problem("stored entry '" + (hex ? "0x" + k : k) + "' is damaged: " + error.message());
      });
  if (!s.ok()) return CannotRun("verify", s, a.json);
  for (const auto& [key, related] : derived) {
    for (const RelatedKey& r : related) {
      auto it = live.find(r.key);
      if (it != live.end() && it->second == r.update_id) continue;
      problem("I1: '" + key + "' (update_id " + std::to_string(live[key]) + ") derives from '" +
              r.key + "' at update_id " + std::to_string(r.update_id) + ", which is " +
              (it == live.end() ? std::string("absent") : "at " + std::to_string(it->second)));
    }
  }

  // The stored index against the stored entries: every edge an entry needs must be there; edges
  // of entries that changed or expired since are harmless (the engine checks each candidate).
  Result<IndexDiff> index = DiffDependentsIndex(v.store());
  if (!index.ok()) return CannotRun("verify", index.status(), a.json);
  for (const auto& [src, dep] : index->missing) {
    problem("dependents index: missing edge '" + src + "' -> '" + dep + "' (writing '" + src +
            "' would not invalidate it)");
  }
  if (!index->stale.empty()) {
    notes.push_back(std::to_string(index->stale.size()) +
                    " stale index edges (entries changed or expired since; harmless)");
  }

  progress.Done();
  const bool ok = problem_count == 0;
  if (a.json) {
    Json pj = Json::array(), nj = Json::array();
    for (const std::string& p : problems) pj.push_back(p);
    for (const std::string& n : notes) nj.push_back(n);
    Json j = Json::object();
    j["dir"] = a.dir;
    j["ok"] = ok;
    j["problem_count"] = problem_count;
    j["problems"] = pj;
    j["notes"] = nj;
    j["checkpoint_seq"] = v.checkpoint_seq();
    j["last_seq"] = v.last_seq();
    j["tail"] = wal::TailStateName(t.state);
    j["tail_in_progress"] = t.in_progress;
    j["entries"] = entries;
    j["index_edges"] = index->edges;
    std::cout << JsonText(j) << std::endl;
  } else {
    for (const std::string& p : problems) std::cout << "PROBLEM " << p << "\n";
    if (problem_count > problems.size()) {
      std::cout << "... and " << problem_count - problems.size() << " more\n";
    }
    for (const std::string& n : notes) std::cout << "note    " << n << "\n";
    std::cout << (ok ? "verify: ok" : "verify: " + std::to_string(problem_count) + " problems")
              << " (" << entries << " entries, " << index->edges << " index edges, seq "
              << v.checkpoint_seq() << ".." << v.last_seq() << ", tail " << TailWord(t) << ")"
              << std::endl;
  }
  return ok ? kExitOk : kExitProblem;
}

}  // namespace

void RegisterVerify(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "verify", "Check checksums, related-key consistency and the dependents index (read-only)");
  cmd->footer(
      "Example:\n  walcache verify /var/lib/app/cache --json\nExit: 0 clean, 1 problems, 2 could "
      "not run.");
  cmd->add_option("DIR", a->dir, "Cache directory")->required();
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
