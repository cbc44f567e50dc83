// End-to-end tests of the `walcache` admin CLI on directories in other states: compact and expiry,
// held open by a live process (read-only commands run and change nothing, writers refuse), empty,
// not a walcache directory, missing, unreadable, and I/O errors that say why.
// Helpers: tests/cli_fixture.h.
#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli_fixture.h"

namespace walcache::cli_test {
namespace {

// ---- compact and expiry -------------------------------------------------------------------------

TEST_F(CliTest, CompactDropsExpiredEntries) {
  ASSERT_EQ(Cli({"put", Dir(), "keep", "k", "--create"}).code, 0);
  const CliRun put = Cli({"put", Dir(), "brief", "b", "--ttl", "1"});
  ASSERT_EQ(put.code, 0) << put;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  const CliRun gone = Cli({"get", Dir(), "brief"});
  EXPECT_EQ(gone.code, 1) << gone;
  EXPECT_NE(gone.err.find("expired"), std::string::npos) << gone;
  const Json gj = ParseJson(Cli({"get", Dir(), "brief", "--json"}));
  EXPECT_FALSE(gj.at("found").get<bool>());
  EXPECT_TRUE(gj.at("expired").get<bool>());
  EXPECT_EQ(ParseJson(Cli({"scan", Dir(), "--json"})).at("count").get<uint64_t>(), 1u);
  const Json before = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(before.at("keys").at("live").get<uint64_t>(), 1u);
  EXPECT_EQ(before.at("keys").at("expired").get<uint64_t>(), 1u);

  const CliRun c = Cli({"compact", Dir(), "--json"});
  ASSERT_EQ(c.code, 0) << c;
  const Json cj = ParseJson(c);
  for (const char* f :
       {"rocksdb_bytes_before", "rocksdb_bytes_after", "wal_bytes_before", "wal_bytes_after"}) {
    EXPECT_TRUE(cj.at(f).is_number()) << f;
  }
  const Json after = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(after.at("keys").at("live").get<uint64_t>(), 1u);
  EXPECT_EQ(after.at("keys").at("expired").get<uint64_t>(), 0u)
      << "the compaction filter dropped it";
  EXPECT_EQ(Cli({"get", Dir(), "keep"}).code, 0);
}

// ---- Held open by a live process ----------------------------------------------------------------

TEST_F(CliTest, HeldInspectShowsTheHolderAndChangesNothing) {
  const auto ids = MakeClean(Dir());
  HeldOpen holder(Dir());
  const auto before = Snapshot(Dir());
  const CliRun r = Cli({"inspect", Dir(), "--exact", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_TRUE(j.at("held").get<bool>());
  EXPECT_EQ(j.at("holder").get<std::string>(), "pid " + std::to_string(holder.pid()));
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids.at("profile:1"));
  EXPECT_EQ(j.at("keys").at("live").get<uint64_t>(), 5u);
  const CliRun text = Cli({"inspect", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("(open: pid " + std::to_string(holder.pid()) + ")"), std::string::npos)
      << text;
  EXPECT_EQ(Snapshot(Dir()), before);
}

TEST_F(CliTest, HeldReadOnlyCommandsRunAndChangeNothing) {
  const auto ids = MakeClean(Dir());
  HeldOpen holder(Dir());
  const auto before = Snapshot(Dir());
  const Json g = ParseJson(Cli({"get", Dir(), "user:2", "--json"}));
  EXPECT_EQ(g.at("update_id").get<uint64_t>(), ids.at("user:2"));
  EXPECT_EQ(ParseJson(Cli({"scan", Dir(), "--json"})).at("count").get<uint64_t>(), 5u);
  const CliRun d = Cli({"wal", "dump", Dir(), "--json"});
  EXPECT_EQ(d.code, 0) << d;
  const CliRun v = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(v.code, 0) << v;
  EXPECT_TRUE(ParseJson(v).at("ok").get<bool>());
  EXPECT_EQ(Snapshot(Dir()), before);
}

TEST_F(CliTest, HeldRepairCompactPutAndDelRefuseAndChangeNothing) {
  MakeClean(Dir());
  // Something for repair to do, were the directory free.
  TamperStore(Dir(), [](engine::RocksStore::Checkpoint* cp) {
    cp->RemoveDependent("user:1", "profile:1");
  });
  HeldOpen holder(Dir());
  const auto before = Snapshot(Dir());
  const std::string pid = "pid " + std::to_string(holder.pid());
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"repair", Dir(), "--yes"},
                                             {"compact", Dir()},
                                             {"put", Dir(), "user:9", "x"},
                                             {"del", Dir(), "user:2"}}) {
    const CliRun r = Cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, Dir())) << cmd[0];
    EXPECT_NE(r.err.find(pid), std::string::npos) << cmd[0] << " names the holder: " << r;
    EXPECT_EQ(r.out.find("repaired"), std::string::npos) << r;
    EXPECT_EQ(Snapshot(Dir()), before) << cmd[0];
  }
}

// ---- Empty, foreign, missing, unreadable --------------------------------------------------------

TEST_F(CliTest, EmptyCacheEveryCommandRuns) {
  MakeEmpty(Dir());
  const Json i = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(i.at("checkpoint_seq").get<uint64_t>(), 0u);
  EXPECT_EQ(i.at("last_seq").get<uint64_t>(), 0u);
  EXPECT_EQ(i.at("wal").at("tail").get<std::string>(), "clean");
  EXPECT_EQ(i.at("wal").at("records_after_checkpoint").get<uint64_t>(), 0u);
  EXPECT_EQ(i.at("keys").at("live").get<uint64_t>(), 0u);
  EXPECT_EQ(i.at("dependents").get<uint64_t>(), 0u);
  EXPECT_EQ(Cli({"get", Dir(), "anything"}).code, 1);
  const Json s = ParseJson(Cli({"scan", Dir(), "--json"}));
  EXPECT_EQ(s.at("count").get<uint64_t>(), 0u);
  EXPECT_FALSE(s.at("truncated").get<bool>());
  const CliRun d = Cli({"wal", "dump", Dir(), "--json"});
  EXPECT_EQ(d.code, 0) << d;
  EXPECT_EQ(ParseJson(d).at("records").size(), 0u);
  EXPECT_EQ(ParseJson(d).at("tail").at("state").get<std::string>(), "clean");
  const CliRun v = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(v.code, 0) << v;
  EXPECT_EQ(ParseJson(v).at("entries").get<uint64_t>(), 0u);
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("nothing to repair"), std::string::npos) << r;
  const CliRun c = Cli({"compact", Dir(), "--json"});
  EXPECT_EQ(c.code, 0) << c;
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0);
}

TEST_F(CliTest, NotAWalcacheDirectoryExitsTwoAndCreatesNothing) {
  const std::string plain = Abs("plain"), other = Abs("other");
  fs::create_directories(plain);
  fs::create_directories(other + "/wal");
  test::WriteFile(other + "/notes.txt", "not a cache\n");
  test::WriteFile(other + "/wal/000001.wal", "nor is this\n");
  for (const std::string& dir : {plain, other}) {
    const auto before = Snapshot(dir);
    std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
    cmds.push_back({"repair", "", "--yes"});
    cmds.push_back({"compact"});
    cmds.push_back({"del", "", "user:1"});
    for (const std::vector<std::string>& cmd : cmds) {
      const CliRun r = Cli(WithDir(cmd, dir));
      EXPECT_EQ(r.code, 2) << cmd[0] << " " << dir << ": " << r;
      EXPECT_TRUE(OneLineNaming(r, dir)) << cmd[0];
      EXPECT_NE(r.err.find("not a walcache directory"), std::string::npos) << r;
      EXPECT_TRUE(r.out.empty()) << r;
      EXPECT_EQ(Snapshot(dir), before) << cmd[0] << " changed " << dir;
    }
  }
}

TEST_F(CliTest, MissingDirectoryExitsTwoAndIsNotCreated) {
  const std::string missing = Abs("none");
  std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
  cmds.push_back({"repair", "", "--yes"});
  cmds.push_back({"compact"});
  cmds.push_back({"del", "", "user:1"});
  for (const std::vector<std::string>& cmd : cmds) {
    const CliRun r = Cli(WithDir(cmd, missing));
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, missing)) << cmd[0];
    EXPECT_FALSE(fs::exists(missing)) << cmd[0] << " created it";
  }
  const CliRun put = Cli({"put", missing, "k", "v"});
  EXPECT_EQ(put.code, 2) << put;
  EXPECT_TRUE(OneLineNaming(put, missing));
  EXPECT_NE(put.err.find("give --create"), std::string::npos) << put;
  EXPECT_FALSE(fs::exists(missing)) << "put created it without --create";
  const CliRun created = Cli({"put", missing, "k", "v", "--create"});
  EXPECT_EQ(created.code, 0) << created;
  EXPECT_TRUE(fs::is_directory(missing + "/rocksdb"));
}

TEST_F(CliTest, UnreadableDirectoryExitsTwoNamingThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any directory, chmod 000 or not";
  MakeClean(Dir());
  const std::string dir = Dir();
  ASSERT_EQ(::chmod(dir.c_str(), 0), 0);
  std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
  cmds.push_back({"repair", "", "--yes"});
  cmds.push_back({"compact"});
  cmds.push_back({"put", "", "k", "v"});
  cmds.push_back({"del", "", "user:1"});
  for (const std::vector<std::string>& cmd : cmds) {
    const CliRun r = Cli(WithDir(cmd, dir));
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, dir)) << cmd[0];
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_EQ(Cli({"verify", dir}).code, 0) << "nothing was damaged";
}

// Without permission to read DIR, the commands cannot tell what it holds: they must say so, not
// call it "not a walcache directory" (DbView::Open takes any failure to stat DIR/rocksdb for
// "it has none"). As root the commands run as nobody, for whom chmod 000 counts.
TEST_F(CliTest, UnreadableWalcacheDirectoryIsNotCalledForeign) {
  MakeClean(Dir());
  std::optional<std::pair<uid_t, gid_t>> as;
  if (::geteuid() == 0) as = std::make_pair(uid_t{65534}, gid_t{65534});
  if (const std::string why = CannotRunAs(as); !why.empty()) GTEST_SKIP() << why;
  ASSERT_EQ(::chmod(Dir().c_str(), 0), 0);
  std::vector<std::vector<std::string>> cmds = ReadOnlyCommands();
  cmds.push_back({"repair", "", "--yes"});
  cmds.push_back({"compact"});
  cmds.push_back({"del", "", "user:1"});
  for (const std::vector<std::string>& cmd : cmds) {
    const CliRun r = Cli(WithDir(cmd, Dir()), "", as);
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r;
    EXPECT_TRUE(OneLineNaming(r, Dir())) << cmd[0];
    EXPECT_EQ(r.err.find("not a walcache directory"), std::string::npos)
        << cmd[0] << " misreports a permission problem: " << r;
  }
  ASSERT_EQ(::chmod(Dir().c_str(), 0700), 0);
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0) << "nothing was damaged";
}

// An I/O error's one line must say why the call failed (the errno's text), not only which call:
// CannotRun (tools/admin_util.cc) prints Status::message(), which leaves the errno out.
TEST_F(CliTest, IoErrorsOnStderrSayWhyTheCallFailed) {
  MakeClean(Dir());
  fs::remove_all(Abs("wal"));
  test::WriteFile(Abs("wal"), "a file where the WAL directory belongs");
  const CliRun r = Cli({"put", Dir(), "k", "v"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_TRUE(OneLineNaming(r, Abs("wal")));
  EXPECT_TRUE(r.err.find(std::strerror(ENOTDIR)) != std::string::npos ||
              r.err.find(std::strerror(EEXIST)) != std::string::npos)
      << "no reason given: " << r;
}

}  // namespace
}  // namespace walcache::cli_test
