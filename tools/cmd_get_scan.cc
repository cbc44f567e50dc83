// `walcache get DIR KEY` and `walcache scan DIR [--prefix P] [--limit N]`: what the next open
// would serve, read without a lock (tools/db_view.h). Expired entries are absent.
// A WAL corrupt before its end (the view stops at the damage, so later writes are missing) or a
// stored entry that does not decode (scan lists the others) is said on stderr, and the exit code
// is 1 even though the command printed what it could: a partial view is never passed off as whole.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/db_view.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir, key, prefix;
  uint64_t limit = 0;
  bool json = false;
};

// On a WAL corrupt before its end: says so on stderr and returns true.
bool WarnPartial(std::string_view cmd, const DbView& v) {
  if (v.wal_error().ok()) return false;
  std::cerr << "walcache " << cmd << ": the WAL is corrupt before its end, so this shows the state "
            << "as of seq " << v.last_seq() << " only (the next open refuses it; see walcache "
            << "verify): " << v.wal_error().message() << std::endl;
  return true;
}

int RunGet(const Args& a) {
  Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false);
  if (!view.ok()) return CannotRun("get", view.status(), a.json);
  const bool partial = WarnPartial("get", **view);
  Result<std::optional<Entry>> e = (*view)->Get(a.key);
  if (!e.ok() && e.status().IsCorruption()) {  // the stored entry does not decode: damage found
    if (a.json) {
      Json j = Json::object();
      j["error"] = e.status().message();
      std::cout << JsonText(j) << std::endl;
    }
    std::cerr << "walcache get: " << e.status().message() << std::endl;
    return kExitProblem;
  }
  if (!e.ok()) return CannotRun("get", e.status(), a.json);
  const bool expired = e->has_value() && (*e)->expires_at != 0 && (*e)->expires_at <= NowMs();
  if (!e->has_value() || expired) {
    if (a.json) {
      Json j = Json::object();
      bool hex = false;
      j["key"] = Show(a.key, &hex);
      j["found"] = false;
      j["expired"] = expired;
      std::cout << JsonText(j) << std::endl;
    } else {
      std::cerr << "walcache get: " << a.key << ": " << (expired ? "expired" : "not found")
                << std::endl;
    }
    return kExitProblem;
  }
  if (a.json) {
    Json j = EntryJson(a.key, **e);
    j["found"] = true;
    std::cout << JsonText(j) << std::endl;
  } else {
    std::cout << EntryLine(a.key, **e) << std::endl;
  }
  return partial ? kExitProblem : kExitOk;
}

int RunScan(const Args& a) {
  // Not while the listing itself goes to the same terminal.
  ProgressLine progress("scan", a.json || ::isatty(STDOUT_FILENO) != 0);
  Result<std::unique_ptr<DbView>> view = DbView::Open(a.dir, false, &progress);
  if (!view.ok()) return CannotRun("scan", view.status(), a.json);
  const bool partial = WarnPartial("scan", **view);
  const uint64_t now = NowMs();
  uint64_t n = 0, damaged = 0;
  Json damaged_keys = Json::array();
  bool truncated = false;
  Json entries = Json::array();
  Status s = (*view)->Scan(
      a.prefix,
      [&](const std::string& key, const Entry& e) {
        if (e.expires_at != 0 && e.expires_at <= now) return true;
        if (a.limit != 0 && n == a.limit) {
          truncated = true;
          return false;
        }
        progress.Update(++n, "entries listed");
        if (a.json) {
          entries.push_back(EntryJson(key, e));
        } else {
          std::cout << EntryLine(key, e) << "\n";
        }
        return true;
      },
      [&](std::string_view key, const Status& error) {
        ++damaged;
        bool hex = false;
        damaged_keys.push_back(Show(key, &hex));
        std::cerr << "walcache scan: skipped a damaged stored entry: " << error.message()
                  << std::endl;
      });
  progress.Done();
  if (!s.ok()) return CannotRun("scan", s, a.json);
  if (a.json) {
    Json j = Json::object();
    j["entries"] = std::move(entries);
    j["count"] = n;
    j["truncated"] = truncated;
    j["complete"] = !partial && damaged == 0;
    j["damaged_keys"] = damaged_keys;
    std::cout << JsonText(j) << std::endl;
  } else {
    std::cout << n << " entries" << (truncated ? " (limit reached)" : "");
    if (damaged > 0) std::cout << "; " << damaged << " damaged entries skipped";
    if (partial) std::cout << "; INCOMPLETE: the WAL is corrupt before its end";
    std::cout << std::endl;
  }
  return partial || damaged > 0 ? kExitProblem : kExitOk;
}

}  // namespace

void RegisterGetScan(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* get = app->add_subcommand("get", "Show the entry of one key (exit 1 if absent)");
  get->footer("Example:\n  walcache get /var/lib/app/cache user:1 --json");
  get->add_option("DIR", a->dir, "Cache directory")->required();
  get->add_option("KEY", a->key, "Key")->required();
  get->add_flag("--json", a->json, "Print one JSON object");
  get->callback([a, exit_code] { *exit_code = RunGet(*a); });

  auto b = std::make_shared<Args>();
  CLI::App* scan = app->add_subcommand("scan", "List live entries in key order");
  scan->footer("Example:\n  walcache scan /var/lib/app/cache --prefix user: --limit 10");
  scan->add_option("DIR", b->dir, "Cache directory")->required();
  scan->add_option("--prefix", b->prefix, "Only keys starting with this");
  scan->add_option("--limit", b->limit, "At most this many entries (0: all)");
  scan->add_flag("--json", b->json, "Print one JSON object");
  scan->callback([b, exit_code] { *exit_code = RunScan(*b); });
}

}  // namespace walcache::tools
