// `walcache soak`: a long mixed load on one cache whose memory budget is far below its data —
// sources, entries derived from them at the updateIds just read, multi-key transactions,
// deletes, touches, reads that miss into RocksDB, background checkpoints and eviction — sampling
// the process's resident memory and the cache's own accounting as it goes. At the end it checks
// I1 over a full scan and reports whether RSS stayed flat after warm-up (the first half): the peak
// and the low of the last quarter against those of the third, and the least-squares slope over
// the second half. Peaks and lows, not single samples, because RSS swings by a whole RocksDB
// memtable between flushes.
// RSS less RocksDB's memtables and block cache (its own bounded pools, which fill and drain on its
// terms) is shown beside it.
//
// Exit 0: no error, I1 holds, memory flat; 1: any of those failed; 2: could not run.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
#include "tools/json.h"
#include "walcache/cache.h"

namespace walcache::tools {
namespace {

struct Args {
  std::string dir;
  double seconds = 600;
  int threads = 16;
  uint64_t keys = 200'000;
  size_t value_bytes = 512;
  size_t budget_mib = 8;
  double sample_seconds = 10;
  double max_growth =
      0.05;  // allowed growth of the last quarter's peak and low RSS over the third's
  bool json = false;
};

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

struct Sample {
  double t = 0;
  uint64_t rss = 0;
  CacheStats stats;
  // RSS less RocksDB's memtables and block cache, which fill and empty on RocksDB's own terms
  // (a 64 MiB memtable before each flush; the block cache up to Options::block_cache_bytes).
  uint64_t own() const {
    const uint64_t rocks = stats.rocksdb_memtable_bytes + stats.rocksdb_block_cache_bytes;
    return rss > rocks ? rss - rocks : 0;
  }
};

struct Counters {
  std::atomic<uint64_t> commits{0}, conflicts{0}, reads{0}, errors{0};
};

// One thread's loop: the mix of the crash checker's workload, over many more keys.
void Work(Cache* c, const Args& a, int thread, const std::atomic<bool>& stop, Counters* n) {
  std::mt19937_64 rng(0x5eed + static_cast<uint64_t>(thread));
  const std::string value(a.value_bytes, static_cast<char>('a' + thread % 26));
  auto key = [&](char kind) { return std::string(1, kind) + std::to_string(rng() % a.keys); };
  auto done = [&](const Result<uint64_t>& r) {
    if (r.ok()) {
      n->commits++;
    } else if (r.status().IsConflict()) {
      n->conflicts++;
    } else if (n->errors++ == 0) {
      std::cerr << "walcache soak: " << r.status().ToString() << "\n";
    }
  };
  while (!stop.load(std::memory_order_relaxed)) {
    const uint64_t kind = rng() % 100;
    const Durability d = rng() % 4 == 0 ? Durability::kSync : Durability::kBuffered;
    if (kind < 40) {  // reads, many of them misses that read through
      n->reads++;
      (void)c->Get(key(rng() % 2 == 0 ? 's' : 'd'));
    } else if (kind < 60) {
      done(c->Put(key('s'), value, PutOptions{rng() % 4 == 0 ? 60'000u : 0u, {}}));
    } else if (kind < 80) {  // derive from a source read now
      const std::string src = key('s');
      Result<Entry> e = c->Get(src);
      if (!e.ok()) continue;
      Transaction t = c->Begin();
      t.Put(key('d'), value, PutOptions{0, {RelatedKey{src, e->update_id}}});
      done(t.Commit(d));
    } else if (kind < 90) {  // a source and an entry derived from it, at once
      Transaction t = c->Begin();
      const std::string s = key('s');
      t.Put(s, value);
      t.Put(key('d'), value, PutOptions{0, {RelatedKey{s, 0}}});
      done(t.Commit(d));
    } else if (kind < 96) {
      done(c->Delete(key('s')));
    } else {
      done(c->Touch(key('s'), rng() % 2 == 0 ? 0 : 60'000));
    }
  }
}

int Run(const Args& a) {
  namespace fs = std::filesystem;
  const bool temporary = a.dir.empty();
  const std::string dir =
      temporary
          ? (fs::temp_directory_path() / ("walcache-soak-" + std::to_string(::getpid()))).string()
          : a.dir;
  Options o;
  o.durability = Durability::kBuffered;
  o.memory_budget_bytes = a.budget_mib << 20;
  o.checkpoint_interval = std::chrono::milliseconds(2'000);
  Result<std::unique_ptr<Cache>> opened = Cache::Open(dir, o);
  if (!opened.ok()) return CannotRun("soak", opened.status());
  Cache* c = opened->get();

  Counters n;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < a.threads; ++i) threads.emplace_back(Work, c, a, i, std::cref(stop), &n);
  std::vector<Sample> samples;
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  while (elapsed() < a.seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(
        std::min(a.sample_seconds, std::max(0.05, a.seconds - elapsed()))));
    samples.push_back(Sample{elapsed(), RssBytes(), c->Stats()});
    const Sample& s = samples.back();
    if (!a.json) {
      std::printf(
          "%7.1f s  rss %6.1f MiB (less RocksDB's %6.1f)  cache %5.1f MiB (dirty %5.1f)  rocksdb "
          "memtables %5.1f, "
          "block cache %5.1f MiB  commits %9llu  evictions %9llu  checkpoints %5llu\n",
          s.t, static_cast<double>(s.rss) / (1 << 20), static_cast<double>(s.own()) / (1 << 20),
          static_cast<double>(s.stats.memory_bytes) / (1 << 20),
          static_cast<double>(s.stats.dirty_bytes) / (1 << 20),
          static_cast<double>(s.stats.rocksdb_memtable_bytes) / (1 << 20),
          static_cast<double>(s.stats.rocksdb_block_cache_bytes) / (1 << 20),
          static_cast<unsigned long long>(n.commits.load()),
          static_cast<unsigned long long>(s.stats.evictions),
          static_cast<unsigned long long>(s.stats.checkpoints));
      std::fflush(stdout);
    }
  }
  stop = true;
  for (std::thread& t : threads) t.join();

  // I1 over everything, memory and RocksDB merged. TTLs run on during the scan: an entry and
  // the source it was clamped to may expire between two reads, so a mismatch counts only if the
  // entry is still live, unchanged, when its source is read again.
  uint64_t entries = 0, broken = 0;
  auto source_holds = [&](const RelatedKey& r) {
    Result<Entry> src = c->Get(r.key);
    return src.ok() && src->update_id == r.update_id;
  };
  Status scan = c->Scan("", [&](std::string_view key, const Entry& e) {
    ++entries;
    for (const RelatedKey& r : e.related) {
      if (source_holds(r)) continue;
      Result<Entry> again = c->Get(key);
      if (!again.ok() || again->update_id != e.update_id || source_holds(r)) continue;
      if (broken++ == 0) {
        Result<Entry> src = c->Get(r.key);
        std::cerr << "walcache soak: I1 broken: '" << key << "'@" << e.update_id << " (expires_at "
                  << e.expires_at << ") derives from '" << r.key << "'@" << r.update_id
                  << ", which is "
                  << (src.ok() ? "at " + std::to_string(src->update_id) + " (expires_at " +
                                     std::to_string(src->expires_at) + ")"
                               : src.status().ToString())
                  << "\n";
      }
    }
    return true;
  });
  const CacheStats end = c->Stats();
  opened->reset();
  std::error_code ec;
  if (temporary) fs::remove_all(dir, ec);

  // Warm-up: the first half, long enough under ASan for RocksDB's memtables, block cache and
  // the allocator's quarantine to fill. Flat: the last quarter's peak and its low each within
  // max_growth of the third quarter's. RSS swings by a whole memtable between flushes; the peaks
  // catch growth of the top of the swing, the lows (just after flushes) a steady leak under it
  // (20 MiB/min moves a ~750 MiB low by ~7% between the quarters of a 10-minute run). The slope
  // over the second half is reported, not judged: one flush near either end moves it by more.
  uint64_t q3 = 0, q4 = 0, q3_rss = 0, q4_rss = 0;
  uint64_t q3_low = UINT64_MAX, q4_low = UINT64_MAX;
  double n_fit = 0, st = 0, sr = 0, stt = 0, str = 0;
  for (const Sample& s : samples) {
    if (s.t < a.seconds / 2) continue;
    const bool last = s.t >= a.seconds * 3 / 4;
    (last ? q4 : q3) = std::max(last ? q4 : q3, s.own());
    (last ? q4_rss : q3_rss) = std::max(last ? q4_rss : q3_rss, s.rss);
    (last ? q4_low : q3_low) = std::min(last ? q4_low : q3_low, s.rss);
    const double mib = static_cast<double>(s.rss) / (1 << 20), min = s.t / 60;
    n_fit += 1, st += min, sr += mib, stt += min * min, str += min * mib;
  }
  const double det = n_fit * stt - st * st;
  const double slope_mib_per_min = det > 0 ? (n_fit * str - st * sr) / det : 0.0;
  auto growth_of = [](uint64_t from, uint64_t to) {
    return from > 0 ? static_cast<double>(to) / static_cast<double>(from) - 1 : 0.0;
  };
  const double growth = growth_of(q3, q4), rss_growth = growth_of(q3_rss, q4_rss);
  const bool both = q3_rss > 0 && q4_rss > 0;
  const double low_growth = both ? growth_of(q3_low, q4_low) : 0.0;
  // RocksDB's memtable property counts its arena, not what malloc has returned to the OS, so
  // the difference is noisy; flatness is judged on raw RSS. A run too short to have samples in
  // both quarters cannot say, and is not called flat.
  const bool flat = both && rss_growth <= a.max_growth && low_growth <= a.max_growth;
  const bool ok = scan.ok() && broken == 0 && n.errors == 0 && flat;
  if (a.json) {
    Json j = Json::object();
    j["seconds"] = a.seconds;
    j["threads"] = static_cast<uint64_t>(a.threads);
    j["budget_bytes"] = static_cast<uint64_t>(o.memory_budget_bytes);
    j["commits"] = n.commits.load();
    j["conflicts"] = n.conflicts.load();
    j["reads"] = n.reads.load();
    j["errors"] = n.errors.load();
    j["entries"] = entries;
    j["i1_violations"] = broken;
    j["evictions"] = end.evictions;
    j["checkpoints"] = end.checkpoints;
    j["own_peak_third_quarter_bytes"] = q3;
    j["own_peak_last_quarter_bytes"] = q4;
    j["own_growth"] = growth;
    j["rss_peak_third_quarter_bytes"] = q3_rss;
    j["rss_peak_last_quarter_bytes"] = q4_rss;
    j["rss_growth"] = rss_growth;
    j["rss_low_third_quarter_bytes"] = both ? q3_low : 0;
    j["rss_low_last_quarter_bytes"] = both ? q4_low : 0;
    j["rss_low_growth"] = low_growth;
    j["rss_slope_second_half_mib_per_min"] = slope_mib_per_min;
    j["flat"] = flat;
    std::cout << JsonText(j) << std::endl;
  } else {
    std::printf(
        "%llu commits, %llu conflicts, %llu reads, %llu errors; %llu entries, %llu I1 "
        "violations; peak memory less RocksDB's, third quarter -> last: %.1f -> %.1f MiB "
        "(%+.1f%%); peak RSS %.1f -> %.1f MiB (%+.1f%%), low RSS %.1f -> %.1f MiB (%+.1f%%), "
        "slope over the second half %+.2f MiB/min: %s\n",
        static_cast<unsigned long long>(n.commits.load()),
        static_cast<unsigned long long>(n.conflicts.load()),
        static_cast<unsigned long long>(n.reads.load()),
        static_cast<unsigned long long>(n.errors.load()), static_cast<unsigned long long>(entries),
        static_cast<unsigned long long>(broken), static_cast<double>(q3) / (1 << 20),
        static_cast<double>(q4) / (1 << 20), growth * 100, static_cast<double>(q3_rss) / (1 << 20),
        static_cast<double>(q4_rss) / (1 << 20), rss_growth * 100,
        both ? static_cast<double>(q3_low) / (1 << 20) : 0.0,
        both ? static_cast<double>(q4_low) / (1 << 20) : 0.0, low_growth * 100, slope_mib_per_min,
        flat ? "flat" : "GROWING");
  }
  if (!scan.ok()) std::cerr << "walcache soak: scan: " << scan.ToString() << "\n";
  return ok ? kExitOk : kExitProblem;
}

}  // namespace

void RegisterSoak(CLI::App* app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "soak", "A long mixed load with a small memory budget: errors, I1 and memory growth");
  cmd->footer("Example:\n  walcache soak --seconds 600 --threads 16 --budget-mib 8");
  cmd->add_option("--dir", a->dir, "Cache directory (default: a fresh temporary one, removed)");
  cmd->add_option("--seconds", a->seconds, "How long to run")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "Worker threads")->check(CLI::Range(1, 256));
  cmd->add_option("--keys", a->keys, "Keys per kind (sources, derived)")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--value-bytes", a->value_bytes, "Bytes per value")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--budget-mib", a->budget_mib, "Memory budget of the cache")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--sample-seconds", a->sample_seconds, "Seconds between samples")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-growth", a->max_growth,
                  "Allowed growth of the last quarter's peak and low RSS over the third quarter's "
                  "(0.05 = 5%)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", a->json, "Print one JSON object at the end instead of samples");
  cmd->callback([a, exit_code] { *exit_code = Run(*a); });
}

}  // namespace walcache::tools
