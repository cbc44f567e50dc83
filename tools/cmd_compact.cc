// `walcache compact DIR`: checkpoint everything, truncate the WAL, compact RocksDB (expired
// entries dropped); a progress bar on a terminal; sizes before and after. Refuses while a process
// holds DIR; never creates it.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "util/file_system.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  bool json = false;
};

// The WAL as inspect counts it: its segment files, not wal/NEWEST nor what repair set aside.
uint64_t SegmentBytes(const std::string& wal) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t n = 0;
  for (fs::directory_iterator it(wal, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".wal" && it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}

uint64_t TreeBytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t n = 0;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    // RocksDB's info logs are not data (and grow with every open).
    if (it->path().filename().string().starts_with("LOG")) continue;
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}

// One line redrawn in place on stderr, only when it is a terminal.
void Progress(int step, int steps, const char* what, bool json) {
  if (json || ::isatty(STDERR_FILENO) == 0) return;
  constexpr int kWidth = 30;
  const int filled = kWidth * step / steps;
  std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
            << what << "\x1b[K" << (step == steps ? "\n" : "") << std::flush;
}

int Run(const Args& a) {
  const std::string rocks = JoinPath(a.dir, "rocksdb"), wal = JoinPath(a.dir, "wal");
  const uint64_t rocks_before = TreeBytes(rocks), wal_before = SegmentBytes(wal);
  const auto start = std::chrono::steady_clock::now();
  Progress(0, 3, "opening (recovery)", a.json);
  {
    Result<std::unique_ptr<Cache>> c = Cache::Open(a.dir, WritingOptions(a.dir, false));
    if (!c.ok()) {
      if (!a.json && ::isatty(STDERR_FILENO) != 0) std::cerr << "\r\x1b[K";
      return CannotRun("compact", c.status(), a.json);
    }
    Progress(1, 3, "checkpoint and compaction", a.json);
    const Status s = (*c)->Compact();
    if (!s.ok()) return CannotRun("compact", s, a.json);
    Progress(2, 3, "closing", a.json);
  }
  Progress(3, 3, "done", a.json);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t rocks_after = TreeBytes(rocks), wal_after = SegmentBytes(wal);
  if (a.json) {
    Json j = Json::object();
    j["dir"] = a.dir;
    j["rocksdb_bytes_before"] = rocks_before;
    j["rocksdb_bytes_after"] = rocks_after;
    j["wal_bytes_before"] = wal_before;
    j["wal_bytes_after"] = wal_after;
    j["seconds"] = seconds;
    std::cout << JsonText(j) << std::endl;
  } else {
    std::cout << "compact: rocksdb/ files " << rocks_before << " -> " << rocks_after
              << " bytes, wal segments " << wal_before << " -> " << wal_after << " bytes ("
              << seconds << " s)" << std::endl;
  }
  return kExitOk;
}

}  // namespace

void RegisterCompact(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "compact", "Checkpoint, truncate the WAL and compact RocksDB (expired entries dropped)");
  cmd->footer("Example:\n  walcache compact /var/lib/app/cache\nRefuses while the cache is open.");
  cmd->add_option("DIR", a->dir, "Cache directory")->required();
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
