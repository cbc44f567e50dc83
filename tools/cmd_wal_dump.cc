// `walcache wal dump DIR [--from SEQ] [--limit N]`: one line a WAL record (file, offset, seq, ops,
// keys, sizes, checksum), then how the log ends. Read-only, no lock. Exit 1 if the log is corrupt
// before its end (a torn tail is not a problem: the next open drops it).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  uint64_t from = 0;
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

int Run(const Args& a) {
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
  dump->footer("Example:\n  walcache wal dump /var/lib/app/cache --from 100 --limit 20 --json");
  dump->add_option("DIR", a->dir, "Cache directory")->required();
  dump->add_option("--from", a->from, "First updateId (seq) to show");
  dump->add_option("--limit", a->limit, "At most this many records (0: all)");
  dump->add_flag("--json", a->json, "Print one JSON document");
  dump->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
