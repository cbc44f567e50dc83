// End-to-end tests of the read-only `walcache` commands on a live cache (docs/cli.md, "Reading a
// live cache"): a writer process commits in the background, rotating segments and
// checkpointing, while verify, wal dump, inspect, scan and get run in a loop. None may raise an
// alarm; a byte flipped in a record that was durable before the command started must still be
// reported, writer running.
//
// Thread-safety: not thread-safe; one test at a time.
#include <sys/mman.h>

#include <atomic>
#include <memory>

#include "tests/child_process.h"
#include "tests/cli_fixture.h"

namespace walcache::cli_test {
namespace {

// What the writer and the test share: MAP_SHARED memory mapped before the fork.
struct Shared {
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> last_id{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
};

// A child process committing two-key transactions to `dir` (options `o`) until told to stop.
class Writer {
 public:
  Writer(const std::string& dir, const Options& o) {
    void* m =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      ADD_FAILURE() << "mmap: " << std::strerror(errno);
      return;
    }
    shared_ = new (m) Shared();
    child_ = std::make_unique<test::Child>([this, &dir, &o]() -> int {
      auto c = Cache::Open(dir, o);
      if (!c.ok()) {
        shared_->failed = true;
        ::_exit(1);
      }
      for (uint64_t i = 0; !shared_->stop.load(); ++i) {
        Transaction t = (*c)->Begin();
        t.Put("k" + std::to_string(i % 500), std::string(40 + i % 200, 'a' + i % 26));
        t.Put("shared:" + std::to_string(i % 7), "s" + std::to_string(i));
        auto id = t.Commit();
        if (!id.ok()) {
          shared_->failed = true;
          ::_exit(1);
        }
        shared_->last_id = *id;
        shared_->commits.fetch_add(1);
      }
      ::_exit(0);  // dies (_exit) holding the directory, as a killed service would
    });
  }
  ~Writer() {
    if (child_ != nullptr) {
      shared_->stop = true;
      child_->Wait();
    }
    if (shared_ != nullptr) ::munmap(shared_, sizeof(Shared));
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  uint64_t commits() const { return shared_->commits.load(); }
  uint64_t last_id() const { return shared_->last_id.load(); }
  bool failed() const { return shared_->failed.load(); }

  // Waits (up to a generous deadline) until at least `n` commits were acknowledged.
  bool WaitForCommits(uint64_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (commits() < n && !failed() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return commits() >= n;
  }

 private:
  Shared* shared_ = nullptr;
  std::unique_ptr<test::Child> child_;  // null: mmap failed
};

class CliLiveTest : public CliTest {};

TEST_F(CliLiveTest, ReadOnlyCommandsRaiseNoAlarmWhileAWriterAppendsRotatesAndCheckpoints) {
  Options o = TestOptions();
  o.wal_segment_size = 64 << 10;  // rotates every few hundred commits
  o.checkpoint_wal_bytes = 128 << 10;
  Writer w(Dir(), o);
  ASSERT_TRUE(w.WaitForCommits(50)) << "the writer did not start";
  const std::vector<std::vector<std::string>> commands = {{"verify"},
                                                          {"wal", "dump"},
                                                          {"inspect"},
                                                          {"inspect", "", "--metrics"},
                                                          {"scan", "", "--limit", "5"},
                                                          {"get", "", "shared:1"},
                                                          {"verify", "", "--json"}};
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  uint64_t calls = 0, alarms = 0, in_progress = 0;
  const uint64_t commits_before = w.commits();
  while (std::chrono::steady_clock::now() < end) {
    for (const auto& cmd : commands) {
      const CliRun r = Cli(WithDir(cmd, Dir()));
      ++calls;
      if (r.code != 0) {
        ++alarms;
        ADD_FAILURE() << "false alarm on a live cache: walcache " << cmd[0] << " " << r;
      }
      if (r.out.find("in progress") != std::string::npos) ++in_progress;
    }
  }
  const uint64_t commits = w.commits() - commits_before;
  EXPECT_FALSE(w.failed());
  EXPECT_GT(commits, 100u) << "the writer barely ran: the test proved little";
  EXPECT_EQ(alarms, 0u) << calls << " calls";
  std::cout << calls << " calls, " << alarms << " false alarms, " << in_progress
            << " saw an append in progress; the writer committed " << commits << std::endl;
}

// `wal dump --since` (the change feed, docs/change-feed.md) followed call after call beside a
// writer that rotates and checkpoints, with a little retention: every transaction once, in
// order, each call reaching what was acknowledged before it; when checkpoints overtake the
// position, a gap (exit 1) naming where the log now starts, never a hole.
TEST_F(CliLiveTest, TheFeedFollowsALiveWriterWithoutAHole) {
  Options o = TestOptions();
  o.wal_segment_size = 64 << 10;
  o.checkpoint_wal_bytes = 128 << 10;
  o.wal_retention_bytes = 256 << 10;
  Writer w(Dir(), o);
  ASSERT_TRUE(w.WaitForCommits(50)) << "the writer did not start";
  uint64_t from = 0, txns = 0, gaps = 0, calls = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    const uint64_t acked = w.last_id();
    const CliRun r = Cli({"wal", "dump", Dir(), "--since", std::to_string(from), "--json"});
    ++calls;
    const Json j = ParseJson(r);
    if (j.at("gap").get<bool>()) {
      EXPECT_EQ(r.code, 1) << r;
      EXPECT_GT(j.at("oldest_from").get<uint64_t>(), from) << r;
      ++gaps;
      from = j.at("oldest_from").get<uint64_t>();
      continue;
    }
    ASSERT_EQ(r.code, 0) << r;
    uint64_t expect = from + 1;
    for (const Json& t : j.at("txns")) {
      ASSERT_EQ(t.at("update_id").get<uint64_t>(), expect) << "a hole after " << expect - 1;
      EXPECT_EQ(t.at("changes").size(), 2u) << t;
      ++expect;
      ++txns;
    }
    from = j.at("next_from").get<uint64_t>();
    EXPECT_EQ(from, expect - 1);
    EXPECT_GE(from, acked) << "acknowledged before the call, but not in the feed";
  }
  EXPECT_FALSE(w.failed());
  EXPECT_GT(txns, 100u) << "the feed barely moved: the test proved little";
  std::cout << calls << " calls, " << txns << " transactions, " << gaps << " gaps" << std::endl;
}

TEST_F(CliLiveTest, AFlippedByteInADurableRecordIsReportedWhileTheWriterRuns) {
  Options o = TestOptions();
  o.wal_segment_size = 64 << 20;  // no rotation: the damaged segment stays the active one
  o.checkpoint_wal_bytes = 64 << 10;
  Writer w(Dir(), o);
  ASSERT_TRUE(w.WaitForCommits(200));
  // The first record of the only segment was acknowledged (durable) long before; flip a bit in
  // its payload, then look while the writer keeps appending after it.
  const std::string segment = Abs("wal/000001.wal");
  ASSERT_TRUE(fs::exists(segment)) << "expected the first segment to be the active one";
  test::FlipBit(segment, kSegmentHeaderSize + kRecordHeaderSize + 4, 2);
  ASSERT_TRUE(w.WaitForCommits(w.commits() + 50));

  const CliRun v = Cli({"verify", Dir()});
  EXPECT_EQ(v.code, 1) << v;
  EXPECT_NE(v.out.find("PROBLEM WAL: " + segment +
                       " at offset 36: damaged record followed by "
                       "valid record seq 2"),
            std::string::npos)
      << v;
  const CliRun d = Cli({"wal", "dump", Dir()});
  EXPECT_EQ(d.code, 1) << d;
  EXPECT_NE(d.out.find("0 records; tail: corrupt at wal/000001.wal:36"), std::string::npos) << d;
  const CliRun i = Cli({"inspect", Dir(), "--json"});
  EXPECT_EQ(i.code, 1) << i;
  EXPECT_EQ(ParseJson(i).at("wal").at("tail").get<std::string>(), "corrupt") << i;
  EXPECT_TRUE(ParseJson(i).at("held").get<bool>()) << i;
  EXPECT_FALSE(w.failed());
}

}  // namespace
}  // namespace walcache::cli_test
