// End-to-end tests of the `walcache` admin CLI on a clean directory: --help and CLI11's parse
// errors, inspect, get, scan, verify and repair of a clean cache,
// put and del. Exit codes (0 ok, 1 problem found, 2 could not run, CLI11's own >= 100), one-line
// errors, every --json document field by field. Helpers: tests/cli_fixture.h.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/cli_fixture.h"
#include "tests/prometheus_parse.h"

namespace walcache::cli_test {
namespace {

// ---- Help and parse errors ----------------------------------------------------------------------

TEST(CliHelp, EverySubcommandShowsAnExample) {
  const std::vector<std::vector<std::string>> commands = {{"inspect"}, {"get"},    {"scan"},
                                                          {"put"},     {"del"},    {"wal", "dump"},
                                                          {"verify"},  {"repair"}, {"compact"}};
  for (const std::vector<std::string>& cmd : commands) {
    std::vector<std::string> args = cmd;
    args.push_back("--help");
    const CliRun r = Cli(args);
    EXPECT_EQ(r.code, 0) << r;
    const size_t example = r.out.find("Example:\n  walcache " + cmd[0] + " ");
    EXPECT_NE(example, std::string::npos) << r;
    EXPECT_NE(r.out.find(cmd.back() + " /", example), std::string::npos)
        << "an example of itself: " << r;
  }
}

// Usage errors exit 2 with one line on stderr (grep's and diff's convention), naming the problem.
TEST(CliParse, UsageErrorsExitTwoWithOneLineNamingTheProblem) {
  const CliRun no_args = Cli({"get"});
  EXPECT_EQ(no_args.code, 2) << no_args;
  EXPECT_TRUE(OneLineNaming(no_args, "walcache get: "));
  EXPECT_NE(no_args.err.find("DIR is required"), std::string::npos) << no_args;
  EXPECT_TRUE(no_args.out.empty()) << no_args;

  ScratchDir dir;
  const CliRun bad_number = Cli({"scan", dir.path(), "--limit", "notanumber"});
  EXPECT_EQ(bad_number.code, 2) << bad_number;
  EXPECT_TRUE(OneLineNaming(bad_number, "walcache scan: "));
  EXPECT_NE(bad_number.err.find("--limit"), std::string::npos) << bad_number;
  EXPECT_NE(bad_number.err.find("notanumber"), std::string::npos) << bad_number;

  const CliRun no_subcommand = Cli({});
  EXPECT_EQ(no_subcommand.code, 2) << no_subcommand;
  EXPECT_TRUE(OneLineNaming(no_subcommand, "walcache: "));
  const CliRun wal_alone = Cli({"wal"});
  EXPECT_EQ(wal_alone.code, 2) << wal_alone;
  EXPECT_TRUE(OneLineNaming(wal_alone, "walcache wal: "));
  const CliRun unknown = Cli({"frobnicate", dir.path()});
  EXPECT_EQ(unknown.code, 2) << unknown;
  EXPECT_TRUE(OneLineNaming(unknown, "walcache: "));
  const CliRun extra = Cli({"verify", dir.path(), "surplus"});
  EXPECT_EQ(extra.code, 2) << extra;
  EXPECT_TRUE(OneLineNaming(extra, "surplus"));
  const CliRun range = Cli({"bench", "--threads", "0"});
  EXPECT_EQ(range.code, 2) << range;
  EXPECT_TRUE(OneLineNaming(range, "--threads"));
  const CliRun help = Cli({"verify", "--help"});
  EXPECT_EQ(help.code, 0) << help;
  EXPECT_NE(unknown.err.find("subcommand"), std::string::npos) << unknown;
  EXPECT_TRUE(fs::is_empty(dir.path())) << "no command ran";
}

// ---- A clean directory --------------------------------------------------------------------------

TEST_F(CliTest, InspectCleanDirectoryJsonFieldByField) {
  const auto ids = MakeClean(Dir());
  const uint64_t before_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(r.err.empty()) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("dir").get<std::string>(), Dir());
  EXPECT_FALSE(j.at("held").get<bool>());
  EXPECT_EQ(j.at("holder").get<std::string>(), "");
  EXPECT_EQ(j.at("checkpoint_seq").get<uint64_t>(), ids.at("profile:1"))
      << "closed: all checkpointed";
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids.at("profile:1"));
  const Json& w = j.at("wal");
  EXPECT_EQ(w.at("segments").get<uint64_t>(), test::SegmentPaths(Abs("wal")).size());
  // The segments' bytes: the directory less its newest-segment witness.
  EXPECT_EQ(w.at("bytes").get<uint64_t>(),
            TreeBytes(Abs("wal")) - fs::file_size(Abs("wal/NEWEST")));
  EXPECT_EQ(w.at("records_after_checkpoint").get<uint64_t>(), 0u);
  EXPECT_EQ(w.at("tail").get<std::string>(), "clean");
  EXPECT_TRUE(w.at("tail_file").get<std::string>().starts_with("wal/"))
      << w.at("tail_file").get<std::string>();
  EXPECT_TRUE(fs::exists(Abs(w.at("tail_file").get<std::string>())));
  EXPECT_GE(w.at("tail_offset").get<uint64_t>(), kSegmentHeaderSize);
  EXPECT_EQ(w.at("tail_dropped_bytes").get<uint64_t>(), 0u);
  EXPECT_EQ(w.at("error").get<std::string>(), "");
  EXPECT_FALSE(j.at("keys").at("exact").get<bool>());
  EXPECT_EQ(j.at("keys").at("estimate").get<uint64_t>(), 5u);
  EXPECT_EQ(j.at("dependents").get<uint64_t>(), 1u) << "user:1 -> profile:1";
  EXPECT_TRUE(j.at("rocksdb").is_object());
  const Json& lr = j.at("last_recovery");
  ASSERT_TRUE(lr.is_object()) << r;
  EXPECT_EQ(lr.at("checkpoint_seq").get<uint64_t>(), 0u)
      << "the fixture's open found a new directory";
  EXPECT_EQ(lr.at("last_seq").get<uint64_t>(), 0u);
  EXPECT_EQ(lr.at("records_replayed").get<uint64_t>(), 0u);
  EXPECT_EQ(lr.at("tail_bytes_dropped").get<uint64_t>(), 0u);
  EXPECT_GT(lr.at("opened_at_ms").get<uint64_t>(), 0u);
  EXPECT_LE(lr.at("opened_at_ms").get<uint64_t>(), before_ms);
  EXPECT_NE(lr.at("summary").get<std::string>().find("checkpoint seq 0"), std::string::npos)
      << lr.at("summary").get<std::string>();

  const Json exact = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_TRUE(exact.at("keys").at("exact").get<bool>());
  EXPECT_EQ(exact.at("keys").at("live").get<uint64_t>(), 5u);
  EXPECT_EQ(exact.at("keys").at("expired").get<uint64_t>(), 0u);

  const CliRun text = Cli({"inspect", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("(not open)"), std::string::npos) << text;
  EXPECT_NE(text.out.find("tail            clean"), std::string::npos) << text;
}

// --metrics: the numbers of --json as a Prometheus text exposition that parses back.
TEST_F(CliTest, InspectMetricsIsAValidExpositionOfWhatJsonShows) {
  MakeClean(Dir());
  const Json j = ParseJson(Cli({"inspect", Dir(), "--json"}));
  const CliRun r = Cli({"inspect", Dir(), "--metrics"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(r.err.empty()) << r;
  const test::PromText m = test::ParsePrometheusText(r.out);
  ASSERT_EQ(m.error, "") << r.out;
  EXPECT_EQ(m.Value("walcache_dir_open"), 0.0);
  EXPECT_EQ(m.Value("walcache_checkpoint_seq"), j.at("checkpoint_seq").get<double>());
  EXPECT_EQ(m.Value("walcache_last_seq"), j.at("last_seq").get<double>());
  EXPECT_EQ(m.Value("walcache_wal_segments"), j.at("wal").at("segments").get<double>());
  EXPECT_EQ(m.Value("walcache_wal_bytes"), j.at("wal").at("bytes").get<double>());
  EXPECT_EQ(m.Value("walcache_wal_tail", {{"state", "clean"}}), 1.0);
  EXPECT_EQ(m.Value("walcache_wal_tail", {{"state", "torn"}}), 0.0);
  EXPECT_EQ(m.Value("walcache_keys_estimate"), j.at("keys").at("estimate").get<double>());
  EXPECT_EQ(m.Value("walcache_dependents"), 1.0);
  EXPECT_EQ(m.Value("walcache_checkpoint_failing"), 0.0);
  EXPECT_EQ(m.Value("walcache_last_recovery_records"),
            j.at("last_recovery").at("records_replayed").get<double>());
  const test::PromText exact =
      test::ParsePrometheusText(Cli({"inspect", Dir(), "--exact", "--metrics"}).out);
  ASSERT_EQ(exact.error, "");
  EXPECT_EQ(exact.Value("walcache_keys", {{"state", "live"}}), 5.0);
  EXPECT_EQ(exact.Value("walcache_keys", {{"state", "expired"}}), 0.0);
  EXPECT_NE(Cli({"inspect", Dir(), "--metrics", "--json"}).code, 0) << "one format at a time";
}

TEST_F(CliTest, GetPrintsTheEntryWithItsUpdateIdAndRelatedKeys) {
  const auto ids = MakeClean(Dir());
  const CliRun text = Cli({"get", Dir(), "profile:1"});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_EQ(text.out, "profile:1 = <p>alice</p>  (update_id " +
                          std::to_string(ids.at("profile:1")) + ", related user:1@" +
                          std::to_string(ids.at("user:1")) + ")\n");
  EXPECT_TRUE(text.err.empty()) << text;

  const CliRun r = Cli({"get", Dir(), "profile:1", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("key").get<std::string>(), "profile:1");
  EXPECT_EQ(j.at("value").get<std::string>(), "<p>alice</p>");
  EXPECT_FALSE(j.contains("value_hex"));
  EXPECT_EQ(j.at("update_id").get<uint64_t>(), ids.at("profile:1"));
  EXPECT_EQ(j.at("expires_at").get<uint64_t>(), 0u);
  ASSERT_EQ(j.at("related").size(), 1u);
  EXPECT_EQ(j.at("related").at(0).at("key").get<std::string>(), "user:1");
  EXPECT_EQ(j.at("related").at(0).at("update_id").get<uint64_t>(), ids.at("user:1"));
  EXPECT_TRUE(j.at("found").get<bool>());
}

TEST_F(CliTest, GetOfAMissingKeyExitsOne) {
  MakeClean(Dir());
  const CliRun text = Cli({"get", Dir(), "user:9"});
  EXPECT_EQ(text.code, 1) << text;
  EXPECT_TRUE(text.out.empty()) << text;
  EXPECT_NE(text.err.find("user:9: not found"), std::string::npos) << text;
  const CliRun r = Cli({"get", Dir(), "user:9", "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("key").get<std::string>(), "user:9");
  EXPECT_FALSE(j.at("found").get<bool>());
  EXPECT_FALSE(j.at("expired").get<bool>());
}

TEST_F(CliTest, GetShowsANonPrintableValueInHex) {
  const std::string value = std::string("\x01\x02", 2) + "ab\x7f";
  const CliRun put = Cli({"put", Dir(), "bin", value, "--create"});
  ASSERT_EQ(put.code, 0) << put;
  const CliRun text = Cli({"get", Dir(), "bin"});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_EQ(text.out, "bin = 0x010261627f  (update_id 1)\n");
  const Json j = ParseJson(Cli({"get", Dir(), "bin", "--json"}));
  EXPECT_EQ(j.at("value").get<std::string>(), "010261627f");
  EXPECT_TRUE(j.at("value_hex").get<bool>());
  EXPECT_FALSE(j.contains("key_hex"));
  EXPECT_EQ(j.at("update_id").get<uint64_t>(), 1u);
}

TEST_F(CliTest, JsonEscapesQuotesAndBackslashesAndShowsControlCharactersInHex) {
  const std::string key = "say \"hi\" \\o/";
  ASSERT_EQ(Cli({"put", Dir(), key, "tab\there", "--create"}).code, 0);
  const CliRun r = Cli({"scan", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  ASSERT_EQ(j.at("entries").size(), 1u) << r;
  EXPECT_EQ(j.at("entries").at(0).at("key").get<std::string>(), key);
  EXPECT_FALSE(j.at("entries").at(0).contains("key_hex"));
  EXPECT_EQ(j.at("entries").at(0).at("value").get<std::string>(), "7461620968657265");
  EXPECT_TRUE(j.at("entries").at(0).at("value_hex").get<bool>());
  const Json d = ParseJson(Cli({"get", Dir(), key, "--json"}));
  EXPECT_EQ(d.at("key").get<std::string>(), key);
  EXPECT_TRUE(d.at("found").get<bool>());
}

TEST_F(CliTest, ScanFiltersByPrefixAndStopsAtTheLimit) {
  const auto ids = MakeClean(Dir());
  const CliRun all = Cli({"scan", Dir(), "--prefix", "user:", "--json"});
  ASSERT_EQ(all.code, 0) << all;
  const Json j = ParseJson(all);
  ASSERT_EQ(j.at("entries").size(), 3u) << all;
  for (size_t i = 0; i < 3; ++i) {
    const std::string key = "user:" + std::to_string(i + 1);
    EXPECT_EQ(j.at("entries").at(i).at("key").get<std::string>(), key);
    EXPECT_EQ(j.at("entries").at(i).at("update_id").get<uint64_t>(), ids.at(key));
  }
  EXPECT_EQ(j.at("entries").at(1).at("value").get<std::string>(), "bob");
  EXPECT_EQ(j.at("count").get<uint64_t>(), 3u);
  EXPECT_FALSE(j.at("truncated").get<bool>());

  const Json two = ParseJson(Cli({"scan", Dir(), "--prefix", "user:", "--limit", "2", "--json"}));
  ASSERT_EQ(two.at("entries").size(), 2u);
  EXPECT_EQ(two.at("entries").at(1).at("key").get<std::string>(), "user:2");
  EXPECT_EQ(two.at("count").get<uint64_t>(), 2u);
  EXPECT_TRUE(two.at("truncated").get<bool>());
  const Json exact = ParseJson(Cli({"scan", Dir(), "--prefix", "user:", "--limit", "3", "--json"}));
  EXPECT_EQ(exact.at("count").get<uint64_t>(), 3u);
  EXPECT_FALSE(exact.at("truncated").get<bool>()) << "nothing was left out";

  const CliRun text = Cli({"scan", Dir(), "--limit", "1"});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_EQ(text.out, "item:1 = lamp  (update_id " + std::to_string(ids.at("item:1")) +
                          ")\n1 entries (limit reached)\n");
  const Json none = ParseJson(Cli({"scan", Dir(), "--prefix", "nobody:", "--json"}));
  EXPECT_EQ(none.at("count").get<uint64_t>(), 0u);
  EXPECT_EQ(none.at("entries").size(), 0u);
}

TEST_F(CliTest, VerifyOfACleanDirectoryIsOk) {
  const auto ids = MakeClean(Dir());
  const CliRun r = Cli({"verify", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("dir").get<std::string>(), Dir());
  EXPECT_TRUE(j.at("ok").get<bool>());
  EXPECT_EQ(j.at("problem_count").get<uint64_t>(), 0u);
  EXPECT_EQ(j.at("problems").size(), 0u);
  EXPECT_EQ(j.at("notes").size(), 0u);
  EXPECT_EQ(j.at("checkpoint_seq").get<uint64_t>(), ids.at("profile:1"));
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids.at("profile:1"));
  EXPECT_EQ(j.at("tail").get<std::string>(), "clean");
  EXPECT_EQ(j.at("entries").get<uint64_t>(), 5u);
  EXPECT_EQ(j.at("index_edges").get<uint64_t>(), 1u);
  const CliRun text = Cli({"verify", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_TRUE(text.out.starts_with("verify: ok (5 entries, 1 index edges")) << text;
}

TEST_F(CliTest, RepairOfACleanDirectoryHasNothingToDo) {
  MakeClean(Dir());
  const auto before = Snapshot(Dir(), /*with_lock=*/false);
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("analyzed: "), std::string::npos) << r;
  EXPECT_NE(r.out.find(" tail=clean "), std::string::npos) << r;
  EXPECT_EQ(Field(r.out, "dropped"), 0u) << r;
  EXPECT_NE(r.out.find("nothing to repair"), std::string::npos) << r;
  EXPECT_EQ(Snapshot(Dir(), false), before);
}

// ---- put and del --------------------------------------------------------------------------------

TEST_F(CliTest, PutCreateMakesAMissingDirectoryAndItsParentsAndWritesThroughTheEngine) {
  const std::string dir = Abs("new/parent/cache");
  const CliRun first = Cli({"put", dir, "user:1", "alice", "--json", "--create"});
  ASSERT_EQ(first.code, 0) << first;
  const Json j = ParseJson(first);
  EXPECT_EQ(j.at("key").get<std::string>(), "user:1");
  EXPECT_EQ(j.at("update_id").get<uint64_t>(), 1u);
  EXPECT_TRUE(fs::is_directory(dir + "/rocksdb"));
  const CliRun second = Cli({"put", dir, "profile:1", "<p>", "--related", "user:1@1"});
  ASSERT_EQ(second.code, 0) << second;
  EXPECT_EQ(second.out, "put profile:1: update_id 2\n");
  const Json got = ParseJson(Cli({"get", dir, "profile:1", "--json"}));
  EXPECT_EQ(got.at("update_id").get<uint64_t>(), 2u);
  EXPECT_EQ(got.at("related").at(0).at("key").get<std::string>(), "user:1");
  EXPECT_EQ(got.at("related").at(0).at("update_id").get<uint64_t>(), 1u);
  EXPECT_EQ(Cli({"verify", dir}).code, 0);
}

TEST_F(CliTest, PutWithAMismatchingRelatedExitsOneAndWritesNothing) {
  const auto ids = MakeClean(Dir());
  const std::string stale = "user:2@" + std::to_string(ids.at("user:2") + 100);
  const CliRun r = Cli({"put", Dir(), "card:2", "<c>", "--related", stale});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(r.out.empty()) << r;
  EXPECT_NE(r.err.find("user:2"), std::string::npos) << r;
  EXPECT_EQ(Cli({"get", Dir(), "card:2"}).code, 1) << "a conflict writes nothing";
  const Json i = ParseJson(Cli({"inspect", Dir(), "--json"}));
  EXPECT_EQ(i.at("last_seq").get<uint64_t>(), ids.at("profile:1")) << "no transaction was logged";

  const CliRun malformed = Cli({"put", Dir(), "card:2", "<c>", "--related", "user:2"});
  EXPECT_EQ(malformed.code, 2) << malformed;
  EXPECT_NE(malformed.err.find("KEY@UPDATE_ID"), std::string::npos) << malformed;
}

TEST_F(CliTest, DelDeletesAndInvalidatesWhatDerivesFromTheKey) {
  const auto ids = MakeClean(Dir());
  const CliRun r = Cli({"del", Dir(), "user:1", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("key").get<std::string>(), "user:1");
  EXPECT_EQ(j.at("update_id").get<uint64_t>(), ids.at("profile:1") + 1);
  EXPECT_EQ(Cli({"get", Dir(), "user:1"}).code, 1);
  EXPECT_EQ(Cli({"get", Dir(), "profile:1"}).code, 1) << "derived from user:1";
  EXPECT_EQ(Cli({"get", Dir(), "user:2"}).code, 0);
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0);
}

TEST_F(CliTest, WalDumpSinceShowsEachTransactionWithItsCascadesAndReportsAGap) {
  const auto ids = MakeClean(Dir());
  ASSERT_EQ(Cli({"del", Dir(), "user:1"}).code, 0);
  const uint64_t del = ids.at("profile:1") + 1;
  const CliRun r =
      Cli({"wal", "dump", Dir(), "--since", std::to_string(ids.at("user:1")), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_FALSE(j.at("gap").get<bool>());
  EXPECT_EQ(j.at("next_from").get<uint64_t>(), del);
  const Json& txns = j.at("txns");
  ASSERT_EQ(txns.size(), del - ids.at("user:1"));
  EXPECT_EQ(txns.at(0).at("update_id").get<uint64_t>(), ids.at("user:1") + 1);
  const Json& last = txns.at(txns.size() - 1);
  EXPECT_EQ(last.at("update_id").get<uint64_t>(), del);
  std::map<std::string, std::string> ops;
  for (const Json& c : last.at("changes")) {
    ops[c.at("key").get<std::string>()] = c.at("op").get<std::string>();
  }
  EXPECT_EQ(
      ops, (std::map<std::string, std::string>{{"user:1", "delete"}, {"profile:1", "invalidate"}}));
  const Json put = txns.at(ids.at("profile:1") - ids.at("user:1") - 1);
  EXPECT_EQ(put.at("changes").at(0).at("op").get<std::string>(), "put");
  EXPECT_EQ(put.at("changes").at(0).at("related").at(0).at("key").get<std::string>(), "user:1");

  // Text: one line a transaction, then where to read on.
  const CliRun text = Cli({"wal", "dump", Dir(), "--since", std::to_string(del - 1)});
  ASSERT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find(std::to_string(del) + ": "), std::string::npos) << text;
  EXPECT_NE(text.out.find("next --since " + std::to_string(del)), std::string::npos) << text;

  // Beyond the log's end: this history is not the one the caller followed.
  const CliRun ahead = Cli({"wal", "dump", Dir(), "--since", std::to_string(del + 5), "--json"});
  EXPECT_EQ(ahead.code, 1) << ahead;
  EXPECT_TRUE(ParseJson(ahead).at("gap").get<bool>()) << ahead;
  EXPECT_EQ(ParseJson(ahead).at("oldest_from").get<uint64_t>(), del) << ahead;
}

TEST_F(CliTest, InspectShowsWhatRetainsTheWalForTheFeed) {
  InChild([&]() -> std::string {
    Options o = TestOptions();
    o.wal_retention_bytes = 1 << 20;
    auto c = Cache::Open(Dir(), o);
    if (!c.ok()) return "ERROR " + c.status().ToString();
    for (int i = 0; i < 5; ++i) {
      if (!(*c)->Put("k" + std::to_string(i), "v").ok()) return "ERROR put";
    }
    const Status s = (*c)->SetFeedPosition("peer", 2);
    return s.ok() ? "" : "ERROR " + s.ToString();
  });
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  const Json& f = j.at("feed");
  EXPECT_EQ(f.at("retain_bytes").get<uint64_t>(), 1u << 20);
  ASSERT_EQ(f.at("consumers").size(), 1u) << r;
  EXPECT_EQ(f.at("consumers").at(0).at("name").get<std::string>(), "peer");
  EXPECT_EQ(f.at("consumers").at(0).at("position").get<uint64_t>(), 2u);
  const CliRun text = Cli({"inspect", Dir()});
  EXPECT_NE(text.out.find("feed            retains 1048576 bytes; consumer peer at 2 (3 behind)"),
            std::string::npos)
      << text;
  // Damaged, it is a problem found (the next open would refuse it).
  test::WriteFile(Abs("FEED"), "consumer:peer two\n");
  const CliRun bad = Cli({"inspect", Dir()});
  EXPECT_EQ(bad.code, 1) << bad;
  EXPECT_NE(bad.out.find("feed            UNREADABLE"), std::string::npos) << bad;
}

TEST_F(CliTest, WalDumpSinceATruncatedPositionIsAGapNotAnEmptySuccess) {
  const std::string made = InChild([&]() -> std::string {
    Options o = TestOptions();
    o.wal_segment_size = 4 << 10;  // a checkpoint then deletes segments
    o.compression = false;
    auto c = Cache::Open(Dir(), o);
    if (!c.ok()) return "ERROR " + c.status().ToString();
    for (int i = 0; i < 60; ++i) {
      if (!(*c)->Put("k" + std::to_string(i), std::string(300, 'v')).ok()) return "ERROR put";
    }
    const Status s = (*c)->Checkpoint();
    return s.ok() ? std::to_string((*c)->Stats().wal_segments_deleted) : "ERROR " + s.ToString();
  });
  ASSERT_NE(made, "0") << "no segment was deleted: nothing to test";
  const CliRun none = Cli({"inspect", Dir()});
  EXPECT_NE(none.out.find("feed            nothing retains WAL segments"), std::string::npos)
      << none;
  const CliRun gap = Cli({"wal", "dump", Dir(), "--since", "0", "--json"});
  EXPECT_EQ(gap.code, 1) << gap;
  const Json j = ParseJson(gap);
  EXPECT_TRUE(j.at("gap").get<bool>()) << gap;
  EXPECT_TRUE(j.at("txns").empty()) << gap;
  const uint64_t oldest = j.at("oldest_from").get<uint64_t>();
  EXPECT_GT(oldest, 0u);
  EXPECT_NE(Cli({"wal", "dump", Dir(), "--since", "0"}).out.find("gap: resync"), std::string::npos);
  // From the oldest position the log holds, it reads on to its end.
  const CliRun on = Cli({"wal", "dump", Dir(), "--since", std::to_string(oldest), "--json"});
  ASSERT_EQ(on.code, 0) << on;
  EXPECT_EQ(ParseJson(on).at("next_from").get<uint64_t>(), 60u) << on;
  EXPECT_EQ(ParseJson(on).at("txns").size(), 60 - oldest) << on;
}

}  // namespace
}  // namespace walcache::cli_test
