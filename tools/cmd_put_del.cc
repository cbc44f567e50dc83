// `walcache put DIR KEY VALUE [--ttl S] [--related KEY@UPDATE_ID]...` and `walcache del DIR KEY`:
// one transaction each, through the engine (logged in the WAL, durable before it returns). Both
// open only an existing cache directory (a mistyped path must not become a new cache); `put
// --create` makes one, with any missing parents. Both refuse while a process holds DIR.
#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>
#include <memory>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir, key, value;
  uint64_t ttl_s = 0;
  std::vector<std::string> related;
  bool create = false;
  bool json = false;
};

// An open that failed: one line (and {"error"} with --json); a missing cache gets the hint.
int OpenFailed(const char* cmd, const Args& a, const Status& s) {
  const bool no_cache = s.IsNotFound() || (s.IsInvalidArgument() &&
                                           s.message().find("not a walcache") != std::string::npos);
  if (!a.create && no_cache && std::string_view(cmd) == "put") {
    return CannotRun(cmd, s.message() + " (give --create to make a new cache there)", a.json);
  }
  return CannotRun(cmd, s, a.json);
}

Result<RelatedKey> ParseRelated(const std::string& s) {
  const size_t at = s.rfind('@');
  uint64_t id = 0;
  if (at == std::string::npos || at == 0) {
    return Status::InvalidArgument("--related " + s + ": expected KEY@UPDATE_ID");
  }
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data() + at + 1, end, id);
  if (ec != std::errc() || p != end || id == 0) {
    return Status::InvalidArgument("--related " + s + ": UPDATE_ID must be a positive integer");
  }
  return RelatedKey{s.substr(0, at), id};
}

int Report(const char* cmd, const Args& a, const Result<uint64_t>& id) {
  if (!id.ok()) {
    if (id.status().IsConflict()) {
      if (a.json) {
        Json j = Json::object();
        j["error"] = id.status().message();
        j["conflict"] = true;
        std::cout << JsonText(j) << std::endl;
      }
      std::cerr << "walcache " << cmd << ": " << id.status().message() << std::endl;
      return kExitProblem;
    }
    return CannotRun(cmd, id.status(), a.json);
  }
  if (a.json) {
    Json j = Json::object();
    bool hex = false;
    j["key"] = Show(a.key, &hex);
    j["update_id"] = *id;
    std::cout << JsonText(j) << std::endl;
  } else {
    std::cout << cmd << " " << a.key << ": update_id " << *id << std::endl;
  }
  return kExitOk;
}

int RunPut(const Args& a) {
  PutOptions po;
  if (a.ttl_s > (UINT64_MAX / 4000)) return CannotRun("put", "--ttl is too large", a.json);
  po.ttl_ms = a.ttl_s * 1000;
  for (const std::string& r : a.related) {
    Result<RelatedKey> rk = ParseRelated(r);
    if (!rk.ok()) return CannotRun("put", rk.status(), a.json);
    po.related.push_back(*rk);
  }
  Result<std::unique_ptr<Cache>> c = Cache::Open(a.dir, WritingOptions(a.dir, a.create));
  if (!c.ok()) return OpenFailed("put", a, c.status());
  return Report("put", a, (*c)->Put(a.key, a.value, po));
}

int RunDel(const Args& a) {
  Result<std::unique_ptr<Cache>> c = Cache::Open(a.dir, WritingOptions(a.dir, false));
  if (!c.ok()) return OpenFailed("del", a, c.status());
  return Report("del", a, (*c)->Delete(a.key));
}

}  // namespace

void RegisterPutDel(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* put = app->add_subcommand(
      "put", "Write one entry through the engine (exit 1 if a related key does not match)");
  put->footer(
      "Example:\n  walcache put /var/lib/app/cache profile:1 '<html>' --ttl 3600 "
      "--related user:1@42");
  put->add_option("DIR", a->dir, "Cache directory (an existing one unless --create)")->required();
  put->add_option("KEY", a->key, "Key")->required();
  put->add_option("VALUE", a->value, "Value")->required();
  put->add_option("--ttl", a->ttl_s, "Time to live in seconds (0: never expires)");
  put->add_option("--related", a->related,
                  "A source this entry derives from, at the updateId it was derived from "
                  "(repeatable)");
  put->add_flag("--create", a->create,
                "Make a new cache in DIR if it holds none (DIR and its parents created)");
  put->add_flag("--json", a->json, "Print one JSON object");
  put->callback([a, exit_code] { *exit_code = RunPut(*a); });

  auto b = std::make_shared<Args>();
  CLI::App* del = app->add_subcommand(
      "del", "Delete one key through the engine (and invalidate what derives from it)");
  del->footer("Example:\n  walcache del /var/lib/app/cache user:1");
  del->add_option("DIR", b->dir, "Cache directory")->required();
  del->add_option("KEY", b->key, "Key")->required();
  del->add_flag("--json", b->json, "Print one JSON object");
  del->callback([b, exit_code] { *exit_code = RunDel(*b); });
}

}  // namespace walcache::tools
