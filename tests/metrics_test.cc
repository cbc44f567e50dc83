// Metrics (issue 16 item 5): AtomicHistogram's power-of-two buckets and the public Histogram's
// percentiles; TickClock's calibrated ticks; the Prometheus text builder (escaping, cumulative
// buckets); and a live cache's Stats histograms — commit by durability, Get from memory and read
// through, checkpoint, fdatasync and records per fdatasync — counted where they should be, and
// Cache::MetricsText parsed back line by line (tests/prometheus_parse.h).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "tests/prometheus_parse.h"
#include "tests/test_util.h"
#include "util/histogram.h"
#include "util/prometheus_text.h"
#include "util/tick_clock.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

using std::chrono::milliseconds;

TEST(AtomicHistogramTest, BucketsArePowersOfTwoWithInclusiveUpperBounds) {
  AtomicHistogram h(4);  // bounds 0, 1, 2, 4, 8, 16, then +Inf
  EXPECT_EQ(h.BucketOf(0), 0);
  EXPECT_EQ(h.BucketOf(1), 1);
  EXPECT_EQ(h.BucketOf(2), 2);
  EXPECT_EQ(h.BucketOf(3), 3);
  EXPECT_EQ(h.BucketOf(4), 3);
  EXPECT_EQ(h.BucketOf(5), 4);
  EXPECT_EQ(h.BucketOf(16), 6 - 1);
  EXPECT_EQ(h.BucketOf(17), 6) << "+Inf";
  EXPECT_EQ(h.BucketOf(UINT64_MAX), 6);
  for (uint64_t v : {0, 1, 2, 3, 4, 5, 16, 17, 1000}) h.Record(v);
  const Histogram s = h.Snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<uint64_t>{0, 1, 2, 4, 8, 16}));
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{1, 1, 1, 2, 1, 1, 2}));
  EXPECT_EQ(s.count, 9u);
  EXPECT_EQ(s.sum, 0u + 1 + 2 + 3 + 4 + 5 + 16 + 17 + 1000);
  // Every value lies at or below its bucket's bound and above the one before.
  for (uint64_t v = 0; v <= 20; ++v) {
    const int b = h.BucketOf(v);
    if (b < static_cast<int>(s.upper_bounds.size())) {
      EXPECT_LE(v, s.upper_bounds[b]) << v;
      if (b > 0) {
        EXPECT_GT(v, s.upper_bounds[b - 1]) << v;
      }
    } else {
      EXPECT_GT(v, s.upper_bounds.back()) << v;
    }
  }
}

TEST(AtomicHistogramTest, ConcurrentRecordsAreAllCounted) {
  AtomicHistogram h(AtomicHistogram::kLatencyLog2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&h, t] {
      for (uint64_t i = 0; i < 10000; ++i) h.Record(i * (t + 1));
    });
  }
  for (std::thread& t : threads) t.join();
  const Histogram s = h.Snapshot();
  EXPECT_EQ(s.count, 80000u);
  uint64_t want_sum = 0;
  for (uint64_t t = 1; t <= 8; ++t) want_sum += t * (9999 * 10000 / 2);
  EXPECT_EQ(s.sum, want_sum);
}

TEST(HistogramTest, PercentilesInterpolateInsideTheBucket) {
  AtomicHistogram h(10);
  EXPECT_EQ(h.Snapshot().Percentile(50), 0.0) << "empty";
  EXPECT_EQ(h.Snapshot().Mean(), 0.0);
  for (int i = 0; i < 100; ++i) h.Record(100);  // bucket (64, 128]
  Histogram s = h.Snapshot();
  EXPECT_EQ(s.Mean(), 100.0);
  EXPECT_GT(s.Percentile(50), 64.0);
  EXPECT_LE(s.Percentile(50), 128.0);
  EXPECT_DOUBLE_EQ(s.Percentile(100), 128.0);
  for (int i = 0; i < 100; ++i) h.Record(1000);  // bucket (512, 1024]
  s = h.Snapshot();
  EXPECT_LE(s.Percentile(40), 128.0) << "the lower half stays in the first bucket";
  EXPECT_GT(s.Percentile(60), 512.0);
  EXPECT_LE(s.Percentile(99), 1024.0);
  h.Record(1u << 20);  // above the last bound
  EXPECT_DOUBLE_EQ(h.Snapshot().Percentile(100), 1024.0) << "+Inf reports the last bound";
}

TEST(TickClockTest, MeasuresIntervalsInNanosecondsAfterCalibration) {
  TickClock clock;
  std::this_thread::sleep_for(milliseconds(20));
  clock.Calibrate();
  EXPECT_GT(clock.ns_per_tick(), 0.0);
  const uint64_t s0 = SteadyNowNs();
  const uint64_t t0 = TickClock::Now();
  std::this_thread::sleep_for(milliseconds(100));
  const uint64_t ns = clock.NsSince(t0);
  const uint64_t steady = SteadyNowNs() - s0;  // brackets the ticks' interval
  EXPECT_LE(static_cast<double>(ns), 1.05 * static_cast<double>(steady))
      << "ticks converted at the calibrated rate agree with the steady clock";
  EXPECT_GE(static_cast<double>(ns), 0.90 * static_cast<double>(steady));
  EXPECT_EQ(clock.NsSince(TickClock::Now() + (uint64_t{1} << 40)), 0u) << "a start in the future";
}

TEST(PrometheusTextTest, EscapesAndWritesCumulativeBuckets) {
  PrometheusText t;
  t.Counter("x_total", "Help with a \\ and a\nnewline.", 3);
  t.Family("h", "histogram", "A histogram.");
  AtomicHistogram h(2);  // 0, 1, 2, 4, +Inf
  for (uint64_t v : {1, 3, 3, 9}) h.Record(v);
  t.HistogramSamples("h", {{"path", "a\"b\\c\nd"}}, h.Snapshot(), 0.5);
  const std::string text = t.Take();
  EXPECT_EQ(text,
            "# HELP x_total Help with a \\\\ and a\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total 3\n"
            "# HELP h A histogram.\n"
            "# TYPE h histogram\n"
            "h_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"0\"} 0\n"
            "h_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"0.5\"} 1\n"
            "h_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"1\"} 1\n"
            "h_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"2\"} 3\n"
            "h_bucket{path=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 4\n"
            "h_sum{path=\"a\\\"b\\\\c\\nd\"} 8\n"
            "h_count{path=\"a\\\"b\\\\c\\nd\"} 4\n");
  const test::PromText parsed = test::ParsePrometheusText(text);
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.Value("h_count", {{"path", "a\"b\\c\nd"}}), 4.0);
}

TEST(PrometheusParseTest, RejectsWhatAScraperWouldNot) {
  // The parser the tests rely on must fail on the mistakes it is there to catch.
  const std::string head = "# HELP h H.\n# TYPE h histogram\n";
  EXPECT_NE(test::ParsePrometheusText("x 1\n").error, "") << "undeclared";
  EXPECT_NE(test::ParsePrometheusText("# HELP x X.\n# TYPE x gauge\nx one\n").error, "");
  EXPECT_NE(test::ParsePrometheusText("# HELP x X.\n# TYPE x gauge\nx 1").error, "");
  EXPECT_NE(test::ParsePrometheusText("# HELP x X.\n# TYPE x gauge\n# note\nx 1\n").error, "");
  EXPECT_NE(test::ParsePrometheusText(head + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                                             "h_sum 1\nh_count 1\n")
                .error,
            "")
      << "not cumulative";
  EXPECT_NE(test::ParsePrometheusText(head + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n").error,
            "")
      << "no +Inf bucket";
  EXPECT_NE(test::ParsePrometheusText(head + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n").error,
            "")
      << "_count differs";
  EXPECT_EQ(test::ParsePrometheusText(head + "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n").error,
            "");
}

// No background checkpoints, so that the test knows each one.
Options Quiet() {
  Options o;
  o.checkpoint_interval = milliseconds(0);
  o.checkpoint_dirty_bytes = 0;
  o.checkpoint_wal_bytes = 0;
  o.sync_interval = milliseconds(0);  // buffered records sync only when asked
  return o;
}

TEST(CacheMetricsTest, StatsHistogramsCountEachPathWhereItBelongs) {
  test::ScratchDir dir;
  {
    auto c = Cache::Open(dir.path(), Quiet());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*c)->Put("s" + std::to_string(i), "v").ok());
    for (int i = 0; i < 4; ++i) {
      Transaction t = (*c)->Begin();
      t.Put("b" + std::to_string(i), "v");
      ASSERT_TRUE(t.Commit(Durability::kBuffered).ok());
    }
    Transaction empty = (*c)->Begin();
    empty.ExpectAbsent("nothing");
    ASSERT_TRUE(empty.Commit().ok());  // wrote nothing: no commit latency
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*c)->Get("s" + std::to_string(i)).ok());
    CacheStats st = (*c)->Stats();
    EXPECT_EQ(st.commit_sync_ns.count, 10u);
    EXPECT_EQ(st.commit_buffered_ns.count, 4u);
    EXPECT_GT(st.commit_sync_ns.sum, 0u);
    EXPECT_EQ(st.get_memory_ns.count, 10u);
    EXPECT_EQ(st.get_read_through_ns.count, 0u);
    EXPECT_EQ(st.wal_records_per_fsync.sum, 10u) << "each synced record counted once";
    EXPECT_GE(st.wal_fsync_ns.count, 10u) << "one commit at a time: one fdatasync each";
    EXPECT_LE(st.wal_fsync_ns.count, st.wal_fsyncs) << "wal_fsyncs also counts segment creation";
    ASSERT_TRUE((*c)->Checkpoint().ok());
    st = (*c)->Stats();
    EXPECT_EQ(st.checkpoint_ns.count, 1u);
    EXPECT_GT(st.checkpoint_ns.sum, 0u);
    EXPECT_EQ(st.wal_records_per_fsync.sum, 14u) << "the checkpoint synced the buffered ones";
  }
  // Reopened: memory is empty, so Gets read through RocksDB (present or not).
  auto c = Cache::Open(dir.path(), Quiet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Get("s1").ok());
  EXPECT_TRUE((*c)->Get("absent").status().IsNotFound());
  ASSERT_TRUE((*c)->Get("s1").ok());  // cached by the first read
  const CacheStats st = (*c)->Stats();
  EXPECT_EQ(st.get_read_through_ns.count, 2u);
  EXPECT_EQ(st.get_memory_ns.count, 1u);
  EXPECT_EQ(st.commit_sync_ns.count, 0u) << "a process's own counts";
}

TEST(CacheMetricsTest, MetricsTextParsesBackAndAgreesWithStats) {
  test::ScratchDir dir;
  auto c = Cache::Open(dir.path(), Quiet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string k = "k" + std::to_string(t) + "." + std::to_string(i);
        ASSERT_TRUE((*c)->Put(k, "v").ok());
        ASSERT_TRUE((*c)->Get(k).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE((*c)->Checkpoint().ok());
  const CacheStats st = (*c)->Stats();
  const std::string text = (*c)->MetricsText();
  const test::PromText m = test::ParsePrometheusText(text);
  ASSERT_EQ(m.error, "") << text;
  EXPECT_EQ(m.Value("walcache_commits_total"), 100.0);
  EXPECT_EQ(m.Value("walcache_last_seq"), static_cast<double>(st.last_seq));
  EXPECT_EQ(m.Value("walcache_checkpoints_total"), 1.0);
  EXPECT_EQ(m.Value("walcache_wal_fsyncs_total"), static_cast<double>(st.wal_fsyncs));
  EXPECT_EQ(m.Value("walcache_commit_duration_seconds_count", {{"durability", "sync"}}), 100.0);
  EXPECT_EQ(m.Value("walcache_commit_duration_seconds_count", {{"durability", "buffered"}}), 0.0);
  EXPECT_EQ(m.Value("walcache_get_duration_seconds_count", {{"source", "memory"}}), 100.0);
  EXPECT_EQ(m.Value("walcache_get_duration_seconds_count", {{"source", "rocksdb"}}), 0.0);
  EXPECT_EQ(m.Value("walcache_checkpoint_duration_seconds_count"), 1.0);
  EXPECT_EQ(m.Value("walcache_wal_records_per_fsync_sum"), 100.0);
  EXPECT_NEAR(m.Value("walcache_commit_duration_seconds_sum", {{"durability", "sync"}}),
              static_cast<double>(st.commit_sync_ns.sum) * 1e-9, 1e-9);
  EXPECT_EQ(m.types.at("walcache_commits_total"), "counter");
  EXPECT_EQ(m.types.at("walcache_memory_bytes"), "gauge");
  EXPECT_EQ(m.types.at("walcache_wal_fsync_duration_seconds"), "histogram");
  // Every counter of Stats is exposed: one family per field (docs/metrics.md lists them).
  for (const char* name : {"walcache_last_seq",
                           "walcache_checkpoint_seq",
                           "walcache_commits_total",
                           "walcache_conflicts_total",
                           "walcache_invalidations_total",
                           "walcache_memory_entries",
                           "walcache_dirty_entries",
                           "walcache_memory_bytes",
                           "walcache_dirty_bytes",
                           "walcache_evictions_total",
                           "walcache_expired_swept_total",
                           "walcache_reads_total",
                           "walcache_read_hits_memory_total",
                           "walcache_read_through_total",
                           "walcache_write_stalls_total",
                           "walcache_related_mismatches_total",
                           "walcache_checkpoints_total",
                           "walcache_checkpoint_failures_total",
                           "walcache_checkpoint_failing",
                           "walcache_wal_segments_deleted_total",
                           "walcache_wal_fsyncs_total",
                           "walcache_rocksdb_memtable_bytes",
                           "walcache_rocksdb_block_cache_bytes",
                           "walcache_commit_duration_seconds",
                           "walcache_get_duration_seconds",
                           "walcache_checkpoint_duration_seconds",
                           "walcache_wal_fsync_duration_seconds",
                           "walcache_wal_records_per_fsync"}) {
    EXPECT_EQ(m.types.count(name), 1u) << name;
  }
}

}  // namespace
}  // namespace walcache
