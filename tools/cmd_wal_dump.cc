// `walcache wal dump DIR [--from SEQ] [--limit N]`: one line a WAL record (file, offset, seq, ops,
// keys, sizes, checksum), then how the log ends. Read-only, no lock. Exit 1 if the log is corrupt
// before its end (a torn tail is not a problem: the next open drops it).
// `walcache wal dump DIR --since UPDATEID [--limit N]`: the change feed (docs/change-feed.md):
// each transaction after UPDATEID with every effect, as Cache::Changes gives it, read through
// the same code (wal/changes.h); exit 1 with "gap" when the WAL no longer holds UPDATEID + 1.
#include <CLI/CLI.hpp>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"
#include "wal/changes.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  uint64_t from = 0;
  std::optional<uint64_t> since;
  uint64_t limit = 0;
  bool json = false;
};

Json TailJson(const DbView& v) {
  const wal::TailReport& t = v.tail();
  Json j = Json::object();
  j["state"] = wal::TailStateName(t.state);
  j["in_progress"] = t.in_progress;
  j["file"] = RelativeTo(v.dir(), t.file);
  j["offset"] = t.valid_end;
  j["dropped_bytes"] = t.dropped_bytes;
  j["last_seq"] = t.last_seq;
  j["detail"] = v.wal_error().ok() ? t.detail : v.wal_error().message();
  return j;
}

// --since: the transactions after a.since, read to the end of what the files hold.
int RunSince(const Args& a) {
  const size_t max = a.limit == 0 ? std::numeric_limits<size_t>::max() : a.limit;
  Result<wal::ChangesRead> read =
      wal::ReadChanges(FileSystem::Posix(), JoinPath(a.dir, "wal"), *a.since, UINT64_MAX, max);
  if (!read.ok()) {
    // Corruption is something wrong found; anything else kept the command from reading.
    if (!read.status().IsCorruption()) return CannotRun("wal dump", read.status(), a.json);
    if (a.json) {
      Json j = Json::object();
      j["error"] = read.status().ToString();
      std::cout << JsonText(j) << std::endl;
    } else {
      std::cerr << "wal dump: " << read.status().ToString() << std::endl;
    }
    return kExitProblem;
  }
  const ChangeBatch& b = read->batch;
  if (a.json) {
    Json j = Json::object();
    j["since"] = *a.since;
    j["gap"] = b.gap;
    if (b.gap) j["oldest_from"] = b.oldest_from;
    j["next_from"] = b.next_from;
    Json txns = Json::array();
    for (const ChangeTxn& t : b.txns) txns.push_back(ChangeTxnJson(t));
    j["txns"] = txns;
    j["in_progress"] = read->reached_end && read->tail.in_progress;
    std::cout << JsonText(j) << std::endl;
  } else {
    for (const ChangeTxn& t : b.txns) std::cout << ChangeTxnLine(t) << "\n";
    if (b.gap) {
      std::cout << "gap: resync: updateId " << *a.since + 1
                << " is not in the WAL (truncated away, or beyond its end)"
                << "; the oldest position it can serve is " << b.oldest_from << std::endl;
    } else {
      std::cout << b.txns.size() << " transactions after " << *a.since << "; next --since "
                << b.next_from << std::endl;
    }
  }
  return b.gap ? kExitProblem : kExitOk;
}

int Run(const Args& a) {
  if (a.since.has_value()) return RunSince(a);
  Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, /*keep_records=*/true);
  if (!view.ok()) return CannotRun("wal dump", view.status(), a.json);
  const DbView& v = **view;
  Json records = Json::array();
  uint64_t shown = 0;
  for (const WalRecordInfo& r : v.records()) {
    if (r.seq < a.from) continue;
    if (a.limit != 0 && shown == a.limit) break;
    ++shown;
    if (a.json) {
      Json j = Json::object();
      Json keys = Json::array();
      for (const std::string& k : r.keys) {
        bool hex = false;
        keys.push_back(Show(k, &hex));
      }
      j["file"] = r.file;
      j["offset"] = r.offset;
      j["length"] = r.length;
      j["seq"] = r.seq;
      j["ops"] = static_cast<uint64_t>(r.ops);
      j["keys"] = keys;
      j["raw_bytes"] = r.raw_bytes;
      j["stored_bytes"] = r.stored_bytes;
      j["compressed"] = r.compressed;
      j["checksum_ok"] = true;
      records.push_back(j);
    } else {
      std::string keys;
      for (size_t i = 0; i < r.keys.size() && i < 8; ++i) {
        bool hex = false;
        keys += (i > 0 ? "," : "") + Show(r.keys[i], &hex);
      }
      if (r.keys.size() > 8) keys += ",...";
      std::cout << r.file << " offset=" << r.offset << " length=" << r.length << " seq=" << r.seq
                << " ops=" << r.ops << " raw=" << r.raw_bytes << " stored=" << r.stored_bytes
                << (r.compressed ? " lz4" : "") << " checksum=ok keys=" << keys << "\n";
    }
  }
  const wal::TailReport& t = v.tail();
  if (a.json) {
    Json j = Json::object();
    j["records"] = records;
    j["tail"] = TailJson(v);
    std::cout << JsonText(j) << std::endl;
  } else {
    std::cout << shown << " records; tail: " << TailWord(t);
    if (!t.file.empty()) std::cout << " at " << RelativeTo(v.dir(), t.file) << ":" << t.valid_end;
    if (t.state == wal::TailState::kTorn) std::cout << ", " << t.dropped_bytes << " bytes torn";
    if (!v.wal_error().ok()) std::cout << " (" << v.wal_error().message() << ")";
    std::cout << std::endl;
    if (t.in_progress) std::cerr << "note: " << InProgressNote(v, "wal dump") << std::endl;
  }
  return t.state == wal::TailState::kCorrupt || !v.wal_error().ok() ? kExitProblem : kExitOk;
}

}  // namespace

void RegisterWalDump(CLI::App* app, int* exit_code) {
  CLI::App* wal = app->add_subcommand("wal", "Look at the write-ahead log");
  wal->require_subcommand(1);
  auto a = std::make_shared<Args>();
  CLI::App* dump = wal->add_subcommand("dump", "One line a record, then how the log ends");
  dump->footer(
      "Example:\n  walcache wal dump /var/lib/app/cache --from 100 --limit 20 --json\n"
      "  walcache wal dump /var/lib/app/cache --since 100 --json   # the change feed");
  dump->add_option("DIR", a->dir, "Cache directory")->required();
  CLI::Option* from = dump->add_option("--from", a->from, "First updateId (seq) to show");
  dump->add_option("--since", a->since,
                   "The change feed: every transaction after this updateId, with its effects")
      ->excludes(from);
  dump->add_option("--limit", a->limit, "At most this many records (0: all)");
  dump->add_flag("--json", a->json, "Print one JSON document");
  dump->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
