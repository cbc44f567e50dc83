// `walcache bench` (see bench.h).
#include "tools/bench.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "tools/bench_child.h"
#include "tools/bench_crash_open.h"
#include "tools/bench_scale.h"
#include "tools/bench_workloads.h"
#include "tools/bench_ycsb.h"
#include "tools/hit_ratio.h"
#include "tools/json.h"

namespace walcache::tools {
namespace {

constexpr int kExitProblem = 1;
constexpr int kExitCannotRun = 2;

// A fresh directory name under the current one.
std::string FreshDir() {
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return "walcache-bench-" + std::to_string(::getpid()) + "-" + std::to_string(now);
}

int RunHitRatio(const BenchOptions& o, const std::string& dir) {
  HitRatioSpec spec;
  spec.keys = o.keys;
  spec.requests = o.ops;
  spec.value_size = o.value_size;
  spec.dir = dir;
  Result<std::vector<HitRatioRow>> rows = RunHitRatioStudy(spec);
  if (!rows.ok()) {
    std::cerr << "walcache bench: " << rows.status().ToString() << std::endl;
    return rows.status().IsCorruption() ? kExitProblem : kExitCannotRun;
  }
  if (!o.json) std::printf("%-16s %-10s %8s %9s\n", "trace", "policy", "cache", "hit ratio");
  for (const HitRatioRow& r : *rows) {
    if (o.json) {
      Json j = Json::object();
      j["workload"] = "hit-ratio";
      j["trace"] = r.trace;
      j["policy"] = r.policy;
      j["keys"] = o.keys;
      j["requests"] = o.ops;
      j["cache_fraction"] = r.cache_fraction;
      j["hit_ratio"] = r.hit_ratio;
      std::cout << JsonText(j) << std::endl;
    } else {
      std::printf("%-16s %-10s %7.1f%% %9.4f\n", r.trace.c_str(), r.policy.c_str(),
                  r.cache_fraction * 100, r.hit_ratio);
    }
  }
  return 0;
}

ScaleSpec ScaleSpecFor(const BenchOptions& o, const std::string& dir) {
  ScaleSpec spec;
  spec.sizes = o.sizes;
  spec.value_size = o.value_size;
  spec.memory_budget_bytes = o.memory_budget;
  spec.probe_ops = o.ops;
  spec.dir = dir;
  return spec;
}

CrashOpenSpec CrashOpenSpecFor(const BenchOptions& o, const std::string& dir) {
  CrashOpenSpec spec;
  spec.wal_bytes = o.wal_mib << 20;
  spec.value_size = o.value_size;
  spec.memory_budget_bytes = o.memory_budget;
  spec.keys = o.keys;
  spec.dir = dir;
  return spec;
}

// One line: the WAL, the reader's rate over it (the peer), the open and its replay rate.
int RunCrashOpen(const BenchOptions& o, const std::string& dir) {
  Result<std::string> self = SelfPath();
  if (!self.ok()) {
    std::cerr << "walcache bench: " << self.status().ToString() << std::endl;
    return kExitCannotRun;
  }
  Result<CrashOpenResult> r = RunCrashOpenStudy(CrashOpenSpecFor(o, dir), *self);
  if (!r.ok()) {
    std::cerr << "walcache bench: " << r.status().ToString() << std::endl;
    return kExitCannotRun;
  }
  constexpr double kMB = 1e6;
  // Both rates over the bytes the open replayed: the reader read the same records.
  const double reader_mb_s = r->reader_s > 0 ? r->bytes_replayed / kMB / r->reader_s : 0;
  const double replay_mb_s = r->open_s > 0 ? r->bytes_replayed / kMB / r->open_s : 0;
  if (o.json) {
    Json j = Json::object();
    j["workload"] = "crash-open";
    j["memory_budget_bytes"] = static_cast<uint64_t>(o.memory_budget);
    j["records"] = r->records;
    j["reader_s"] = r->reader_s;
    j["reader_mb_per_s"] = reader_mb_s;
    j["open_s"] = r->open_s;
    j["bytes_replayed"] = r->bytes_replayed;
    j["records_replayed"] = r->records_replayed;
    j["replay_mb_per_s"] = replay_mb_s;
    j["replay_to_reader"] = reader_mb_s > 0 ? replay_mb_s / reader_mb_s : 0;
    j["rss_bytes"] = r->rss_bytes;
    std::cout << JsonText(j) << std::endl;
  } else {
    std::printf(
        "WAL %.1f MB in %llu records: reader %.3f s (%.0f MB/s); open %.3f s (replay %.0f MB/s, "
        "%.2fx the reader); RSS %.0f MiB\n",
        r->bytes_replayed / kMB, static_cast<unsigned long long>(r->records), r->reader_s,
        reader_mb_s, r->open_s, replay_mb_s, reader_mb_s > 0 ? replay_mb_s / reader_mb_s : 0,
        r->rss_bytes / 1048576.0);
  }
  return 0;
}

int RunScale(const BenchOptions& o, const std::string& dir) {
  Result<std::string> self = SelfPath();
  if (!self.ok()) {
    std::cerr << "walcache bench: " << self.status().ToString() << std::endl;
    return kExitCannotRun;
  }
  Result<std::vector<ScaleRow>> rows = RunScaleStudy(ScaleSpecFor(o, dir), *self);
  if (!rows.ok()) {
    std::cerr << "walcache bench: " << rows.status().ToString() << std::endl;
    return kExitCannotRun;
  }
  if (!o.json) {
    std::printf("%10s %10s %9s %9s %7s %9s %9s %10s %9s\n", "entries", "load txn/s", "open s",
                "rocks s", "open/rk", "RSS MiB", "mem MiB", "inval w/s", "reads/s");
  }
  for (const ScaleRow& r : *rows) {
    const double ratio = r.open.rocksdb_open_s > 0 ? r.open.open_s / r.open.rocksdb_open_s : 0;
    if (o.json) {
      Json j = Json::object();
      j["workload"] = "scale";
      j["entries"] = r.entries;
      j["memory_budget_bytes"] = static_cast<uint64_t>(o.memory_budget);
      j["load_txn_per_s"] = r.load_txn_per_s;
      j["open_s"] = r.open.open_s;
      j["rocksdb_open_s"] = r.open.rocksdb_open_s;
      j["open_vs_rocksdb"] = ratio;
      j["rss_bytes"] = r.open.rss_bytes;
      j["memory_bytes"] = r.open.memory_bytes;
      j["invalidating_writes_per_s"] = r.open.invalidating_writes_per_s;
      j["reads_per_s"] = r.open.reads_per_s;
      j["index_seeks"] = r.open.index_seeks;
      std::cout << JsonText(j) << std::endl;
    } else {
      std::printf("%10llu %10.0f %9.3f %9.3f %7.2f %9.1f %9.1f %10.0f %9.0f\n",
                  static_cast<unsigned long long>(r.entries), r.load_txn_per_s, r.open.open_s,
                  r.open.rocksdb_open_s, ratio, static_cast<double>(r.open.rss_bytes) / (1 << 20),
                  static_cast<double>(r.open.memory_bytes) / (1 << 20),
                  r.open.invalidating_writes_per_s, r.open.reads_per_s);
    }
  }
  return 0;
}

int RunYcsbBench(const BenchOptions& o, const std::string& dir) {
  YcsbSpec spec;
  if (o.workload == "ycsb") {
    for (char mix : {'c', 'b', 'a', 'f'}) {
      for (bool zipf : {false, true}) spec.cells.push_back(YcsbCell{mix, zipf});
    }
  } else {
    spec.cells.push_back(YcsbCell{o.workload.back(), o.key_dist == "zipf"});
  }
  spec.records = o.keys;
  spec.ops = o.ops;
  spec.threads = o.threads;
  spec.value_size = o.value_size;
  spec.memory_budget_bytes = o.memory_budget;
  spec.block_cache_bytes = o.memory_budget / 4;
  spec.durability = o.durability == "sync" ? Durability::kSync : Durability::kBuffered;
  const bool rocks = o.engine == "rocksdb";
  Result<std::vector<YcsbRow>> rows = RunYcsb(dir, spec, rocks);
  if (!rows.ok()) {
    std::cerr << "walcache bench: " << rows.status().ToString() << " (in " << dir << ")"
              << std::endl;
    return kExitCannotRun;
  }
  if (!o.json) {
    std::printf("%-8s %-8s %-7s %10s %8s %8s %9s %9s %9s\n", "engine", "mix", "keys", "ops/s",
                "p50 us", "p99 us", "RSS MiB", "mem MiB", "data/mem");
  }
  for (const YcsbRow& r : *rows) {
    const std::string mix = std::string("ycsb-") + r.cell.mix;
    const char* dist = r.cell.zipf ? "zipf" : "uniform";
    const double ops_per_s = r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0;
    const double data_to_budget =
        static_cast<double>(r.data_bytes) / static_cast<double>(o.memory_budget);
    if (o.json) {
      Json j = Json::object();
      j["engine"] = rocks ? "rocksdb" : "walcache";
      j["workload"] = mix;
      j["key_dist"] = dist;
      j["records"] = o.keys;
      j["threads"] = o.threads;
      j["durability"] = o.durability;
      j["memory_budget_bytes"] = static_cast<uint64_t>(o.memory_budget);
      j["block_cache_bytes"] = static_cast<uint64_t>(spec.block_cache_bytes);
      j["data_bytes"] = r.data_bytes;
      j["data_to_budget"] = data_to_budget;
      j["ops"] = r.ops;
      j["reads"] = r.reads;
      j["updates"] = r.updates;
      j["conflicts"] = r.conflicts;
      j["seconds"] = r.seconds;
      j["ops_per_s"] = ops_per_s;
      j["p50_us"] = r.p50_us;
      j["p99_us"] = r.p99_us;
      j["rss_bytes"] = r.rss_bytes;
      j["memory_bytes"] = r.memory_bytes;
      j["load_s"] = r.load_s;
      std::cout << JsonText(j) << std::endl;
    } else {
      std::printf("%-8s %-8s %-7s %10.0f %8.1f %8.1f %9.1f %9.1f %9.1f\n",
                  rocks ? "rocksdb" : "walcache", mix.c_str(), dist, ops_per_s, r.p50_us, r.p99_us,
                  static_cast<double>(r.rss_bytes) / (1 << 20),
                  static_cast<double>(r.memory_bytes) / (1 << 20), data_to_budget);
    }
  }
  return 0;
}

}  // namespace

void RegisterBench(CLI::App* app, int* exit_code) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App* cmd = app->add_subcommand(
      "bench", "Measure WAL commit throughput and latency against the disk's fdatasync rate");
  cmd->footer(
      "Examples:\n"
      "  walcache bench --workload fsync --threads 1 --ops 2000 --json\n"
      "  walcache bench --workload wal --threads 8 --durability sync --ops 20000 --json\n"
      "Quote results as ratios against a peer measured in the same run.");
  cmd->add_option("--workload", opts->workload,
                  "wal: one-put records through the WAL writer (with --engine rocksdb: the same "
                  "puts through RocksDB); txn: a source and two derived keys a transaction; "
                  "get: random reads of a hot set; fsync: write + fdatasync on a preallocated "
                  "file (the disk's limit); hit-ratio: LRU, CLOCK and S3-FIFO on Zipfian traces "
                  "of --ops requests over --keys keys, and the engine on one of them (one JSON "
                  "line a row with --json); scale: one cache grown through --sizes entries, at "
                  "each a clean reopen (beside RocksDB's DB::Open), RSS, memory_bytes, --ops "
                  "source writes and reads (one line a size; scale-open is its child); "
                  "crash-open: --wal-mib MiB of WAL left by a SIGKILL with no checkpoint, then "
                  "an open that replays it, beside wal::Reader reading the same WAL "
                  "(crash-open-load and crash-open-measure are its children); ycsb-a|b|c|f: "
                  "YCSB's mix (A 50/50 reads/updates, B 95/5, C reads, F 50/50 reads/read-"
                  "modify-writes) over --keys sources with one derived entry each, loaded and "
                  "reopened cold, --ops ops with --key-dist keys; ycsb: the four mixes with "
                  "both key distributions on one load (one line a cell)")
      ->check(CLI::IsMember({"wal", "txn", "get", "fsync", "hit-ratio", "scale", "scale-open",
                             "crash-open", "crash-open-load", "crash-open-measure", "ycsb",
                             "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-f"}))
      ->capture_default_str();
  cmd->add_option("--engine", opts->engine, "walcache, or rocksdb doing the same work")
      ->check(CLI::IsMember({"walcache", "rocksdb"}))
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "Concurrent appenders")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--durability", opts->durability,
                  "sync: ack after fdatasync; buffered: "
                  "ack after write, background sync")
      ->check(CLI::IsMember({"sync", "buffered"}))
      ->capture_default_str();
  cmd->add_option("--ops", opts->ops, "Operations in total, split across threads")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32))
      ->capture_default_str();
  cmd->add_option("--value-size", opts->value_size, "Bytes of each value (wal) or write (fsync)")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("--keys", opts->keys,
                  "Distinct keys of the hit-ratio traces; ycsb: the sources (each with one "
                  "derived entry)")
      ->check(CLI::Range(uint64_t{1000}, uint64_t{100'000'000}))
      ->capture_default_str();
  cmd->add_option("--dir", opts->dir,
                  "Directory to work in (must not hold a WAL yet; kept "
                  "afterwards). Default: a fresh directory under the current one, removed at "
                  "the end");
  cmd->add_option("--segment-size", opts->segment_size, "WAL segment size in bytes")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--group-wait-us", opts->group_wait_us,
                  "Longest a group-commit leader waits "
                  "for the previous group's size to gather (0: never)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000}))
      ->capture_default_str();
  cmd->add_option("--key-dist", opts->key_dist,
                  "txn, ycsb-*: how keys are drawn: uniform, or zipf (theta 0.99; ycsb: "
                  "scrambled over the key space)")
      ->check(CLI::IsMember({"uniform", "zipf"}))
      ->capture_default_str();
  cmd->add_option("--sizes", opts->sizes, "scale: entries at each step, ascending")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--memory-budget", opts->memory_budget,
                  "scale, crash-open, ycsb: memory_budget_bytes (crash-open's dirty entries "
                  "must fit; ycsb: walcache's block cache is a quarter of it, RocksDB's the sum)")
      ->check(CLI::Range(size_t{1} << 20, size_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--wal-mib", opts->wal_mib, "crash-open: MiB of WAL the crash leaves to replay")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("!--no-compression", opts->compression, "Disable LZ4 compression of records");
  cmd->add_flag("--json", opts->json, "Print one JSON object");
  cmd->callback([opts, exit_code] { *exit_code = RunBench(*opts); });
}

int RunBench(const BenchOptions& o) {
  namespace fs = std::filesystem;
  const bool temporary = o.dir.empty();
  const std::string dir = temporary ? FreshDir() : o.dir;
  std::error_code ec;
  if (o.workload == "scale-open") {
    ScaleSpec spec = ScaleSpecFor(o, dir);
    const Status s = RunScaleOpen(spec, o.keys);
    if (!s.ok()) std::cerr << "walcache bench: " << s.ToString() << std::endl;
    return s.ok() ? 0 : kExitCannotRun;
  }
  if (o.workload == "crash-open-load" || o.workload == "crash-open-measure") {
    const CrashOpenSpec spec = CrashOpenSpecFor(o, dir);
    const Status s =
        o.workload == "crash-open-load" ? RunCrashOpenLoad(spec) : RunCrashOpenMeasure(spec);
    std::cerr << "walcache bench: " << s.ToString() << std::endl;
    return kExitCannotRun;
  }
  if (!temporary && fs::exists(fs::path(dir) / "wal", ec)) {
    std::cerr << "walcache bench: " << dir << " already holds a WAL; give an empty or new "
              << "directory" << std::endl;
    return kExitCannotRun;
  }
  if (!fs::create_directories(dir, ec) && ec) {
    std::cerr << "walcache bench: cannot create " << dir << ": " << ec.message() << std::endl;
    return kExitCannotRun;
  }

  if (o.workload == "scale") {
    const int rc = RunScale(o, JoinPath(dir, "cache"));
    if (temporary) fs::remove_all(dir, ec);
    return rc;
  }
  if (o.workload == "crash-open") {
    const int rc = RunCrashOpen(o, JoinPath(dir, "cache"));
    if (temporary) fs::remove_all(dir, ec);
    return rc;
  }
  if (o.workload.starts_with("ycsb")) {
    const int rc = RunYcsbBench(o, dir);
    if (temporary) fs::remove_all(dir, ec);
    return rc;
  }
  if (o.workload == "hit-ratio") {
    const int rc = RunHitRatio(o, JoinPath(dir, "cache"));
    if (temporary) fs::remove_all(dir, ec);
    return rc;
  }

  WorkloadSpec spec;
  spec.threads = o.threads;
  spec.durability = o.durability == "sync" ? Durability::kSync : Durability::kBuffered;
  spec.ops = o.ops;
  spec.value_size = o.value_size;
  spec.segment_size = o.segment_size;
  spec.compression = o.compression;
  spec.group_wait_us = o.group_wait_us;
  spec.zipf = o.key_dist == "zipf";
  FileSystem* files = FileSystem::Posix();
  const bool rocks = o.engine == "rocksdb";
  const bool wal = o.workload == "wal" && !rocks;
  const bool fsync = o.workload == "fsync";
  Result<WorkloadResult> r = Status::InvalidArgument("unknown workload " + o.workload);
  if (o.workload == "wal") {
    r = rocks ? RunRocksDbWorkload(dir, spec) : RunWalWorkload(files, dir, spec);
  } else if (o.workload == "txn") {
    r = RunTxnWorkload(dir, spec, rocks);
  } else if (o.workload == "get") {
    r = RunGetWorkload(dir, spec, rocks);
  } else if (fsync) {
    r = RunFsyncWorkload(files, JoinPath(dir, "fsync"), spec);
  }
  const char* engine = fsync ? "disk" : rocks ? "rocksdb" : "walcache";
  const bool logged = !fsync;  // has a durability mode and a read-back check
  if (temporary) fs::remove_all(dir, ec);
  if (!r.ok()) {
    std::cerr << "walcache bench: " << r.status().ToString() << " (in " << dir << ")" << std::endl;
    return r.status().IsCorruption() ? kExitProblem : kExitCannotRun;
  }
  const double ops_per_s = r->seconds > 0 ? static_cast<double>(r->ops) / r->seconds : 0;
  Json j = Json::object();
  j["engine"] = engine;
  j["workload"] = o.workload;
  j["threads"] = o.threads;
  j["durability"] = logged ? o.durability : std::string("sync");
  j["ops"] = r->ops;
  j["value_size"] = static_cast<uint64_t>(o.value_size);
  j["seconds"] = r->seconds;
  j["ops_per_s"] = ops_per_s;
  j["p50_us"] = r->p50_us;
  j["p99_us"] = r->p99_us;
  j["fsyncs"] = r->fsyncs;
  j["fsyncs_per_s"] = r->seconds > 0 ? static_cast<double>(r->fsyncs) / r->seconds : 0.0;
  j["bytes"] = r->bytes;
  if (logged) {
    j["ops_per_fsync"] = r->fsyncs > 0 ? static_cast<double>(r->ops) / r->fsyncs : 0.0;
    j["verified"] = r->verified;
  }
  if (o.workload == "txn") {
    j["key_dist"] = o.key_dist;
    j["disk_bytes"] = r->disk_bytes;
    j["disk_bytes_per_op"] =
        r->ops > 0 ? static_cast<double>(r->disk_bytes) / static_cast<double>(r->ops) : 0.0;
    if (o.engine == "walcache") {
      j["index_seeks"] = r->index_seeks;
      j["index_cache_hits"] = r->index_cache_hits;
      j["index_cache_misses"] = r->index_cache_misses;
      j["checkpoints"] = r->checkpoints;
    }
  }
  if (wal) {
    j["groups"] = r->groups;
    j["segments"] = r->segments;
    j["gathers"] = r->gathers;
    j["overlapped_writes"] = r->overlapped_writes;
    j["chained_syncs"] = r->chained_syncs;
  }
  if (o.json) {
    std::cout << JsonText(j) << std::endl;
  } else {
    std::printf(
        "%s %s threads=%d durability=%s ops=%llu: %.0f ops/s, p50 %.1f us, p99 %.1f us, "
        "%llu fsyncs%s\n",
        engine, o.workload.c_str(), o.threads, logged ? o.durability.c_str() : "sync",
        static_cast<unsigned long long>(r->ops), ops_per_s, r->p50_us, r->p99_us,
        static_cast<unsigned long long>(r->fsyncs),
        logged ? (", " + std::to_string(r->verified) + " records verified after reopen").c_str()
               : "");
  }
  return 0;
}

}  // namespace walcache::tools
