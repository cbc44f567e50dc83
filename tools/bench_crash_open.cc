// `walcache bench --workload crash-open` (see bench_crash_open.h).
#include "tools/bench_crash_open.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>
#include <vector>

#include "tools/bench_child.h"
#include "tools/json.h"
#include "util/file_system.h"
#include "util/status_macros.h"
#include "wal/reader.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

Options LoadOptions(const CrashOpenSpec& spec) {
  Options o;
  o.durability = Durability::kBuffered;
  o.memory_budget_bytes = spec.memory_budget_bytes;
  o.checkpoint_dirty_bytes = 0;  // no trigger: the WAL holds everything since the open
  o.checkpoint_wal_bytes = 0;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  return o;
}

}  // namespace

Status RunCrashOpenLoad(const CrashOpenSpec& spec) {
  Result<std::unique_ptr<Cache>> c = Cache::Open(spec.dir, LoadOptions(spec));
  if (!c.ok()) return c.status();
  // Random values, so that the WAL's LZ4 does not shrink them to nothing.
  std::mt19937_64 rng(5);
  std::vector<std::string> values(64, std::string(spec.value_size, ' '));
  for (std::string& v : values) {
    for (char& ch : v) ch = static_cast<char>('!' + rng() % 90);
  }
  for (uint64_t i = 0;; ++i) {
    const std::string n = std::to_string((i * 7919) % spec.keys);
    const std::string& value = values[i % values.size()];
    Transaction txn = (*c)->Begin();
    txn.Put("s:" + n, value);
    txn.Put("d1:" + n, value, {.related = {{"s:" + n, 0}}});
    txn.Put("d2:" + n, value, {.related = {{"s:" + n, 0}}});
    Result<uint64_t> id = txn.Commit();
    if (!id.ok()) return id.status();
    if (i % 1024 == 0 && (*c)->Stats().wal_bytes_logged >= spec.wal_bytes) break;
  }
  if ((*c)->Stats().checkpoints != 0) {
    return Status::Aborted("a checkpoint ran during the load; raise --memory-budget");
  }
  std::raise(SIGKILL);  // buffered commits are in the page cache: a process crash keeps them
  return Status::Aborted("SIGKILL did not kill");
}

Status RunCrashOpenMeasure(const CrashOpenSpec& spec) {
  CrashOpenResult r;
  {
    const auto t0 = std::chrono::steady_clock::now();
    Result<std::unique_ptr<wal::Reader>> reader =
        wal::Reader::Open(FileSystem::Posix(), JoinPath(spec.dir, "wal"));
    if (!reader.ok()) return reader.status();
    wal::WalRecord rec;
    while (true) {
      Result<bool> more = (*reader)->Next(&rec);
      if (!more.ok()) return more.status();
      if (!*more) break;
      ++r.records;
    }
    r.reader_s = SecondsSince(t0);
  }
  Options o = LoadOptions(spec);
  const auto t0 = std::chrono::steady_clock::now();
  Result<std::unique_ptr<Cache>> c = Cache::Open(spec.dir, o);
  if (!c.ok()) return c.status();
  r.open_s = SecondsSince(t0);
  r.rss_bytes = RssBytes();
  const RecoveryInfo info = (*c)->LastRecovery();
  r.bytes_replayed = info.bytes_replayed;
  r.records_replayed = info.records_replayed;
  Json j = Json::object();
  j["records"] = r.records;
  j["reader_s"] = r.reader_s;
  j["open_s"] = r.open_s;
  j["bytes_replayed"] = r.bytes_replayed;
  j["records_replayed"] = r.records_replayed;
  j["rss_bytes"] = r.rss_bytes;
  std::cout << JsonText(j) << std::endl;
  // What was replayed is dirty; a close would checkpoint it all, which is not measured here.
  std::fflush(stdout);
  std::_Exit(0);
}

Result<CrashOpenResult> RunCrashOpenStudy(const CrashOpenSpec& spec, const std::string& self) {
  const std::string common =
      " --dir '" + spec.dir + "' --wal-mib " + std::to_string(spec.wal_bytes >> 20) + " --keys " +
      std::to_string(spec.keys) + " --memory-budget " + std::to_string(spec.memory_budget_bytes) +
      " --value-size " + std::to_string(spec.value_size);
  WALCACHE_RETURN_IF_ERROR(
      RunBenchChild("'" + self + "' bench --workload crash-open-load" + common, true).status());
  WALCACHE_ASSIGN_OR_RETURN(
      std::string out,
      RunBenchChild("'" + self + "' bench --workload crash-open-measure" + common, false));
  const Json j = Json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("the measuring child printed " + out);
  CrashOpenResult r;
  r.records = j.value("records", uint64_t{0});
  r.reader_s = j.value("reader_s", 0.0);
  r.open_s = j.value("open_s", 0.0);
  r.bytes_replayed = j.value("bytes_replayed", uint64_t{0});
  r.records_replayed = j.value("records_replayed", uint64_t{0});
  r.rss_bytes = j.value("rss_bytes", uint64_t{0});
  return r;
}

}  // namespace walcache::tools
