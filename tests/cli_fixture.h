// The CliTest fixture of the CLI's end-to-end tests: a scratch directory, crashed caches whose WAL
// it tears or corrupts precisely (docs/wal-format.md), and the states their records describe.
// Thread-safety: not thread-safe; one test at a time.
#ifndef WALCACHE_TESTS_CLI_FIXTURE_H_
#define WALCACHE_TESTS_CLI_FIXTURE_H_

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/cache_in_child.h"
#include "tests/cli_run.h"
#include "tests/dir_snapshot.h"
#include "tests/test_util.h"

namespace walcache::cli_test {

using test::ScratchDir;

// ---- Fixtures made of the pieces above ----------------------------------------------------------

// The state after the first `n` transactions of the crash fixture.
inline State StateAfter(const std::vector<uint64_t>& ids, size_t n) {
  State s;
  for (size_t i = 0; i < n; ++i) {
    s[TxnKey(i)] = {TxnValue(i), ids[i]};
    s[SharedKey(i)] = {SharedValue(i), ids[i]};
  }
  return s;
}

// The state the records of a `wal dump --json` with seq <= up_to describe, each record's keys
// given the values its transaction wrote (found by its seq among `ids`).
inline State StateFromDump(const Json& dump, const std::vector<uint64_t>& ids, uint64_t up_to) {
  State s;
  for (const Json& r : dump.at("records")) {
    const uint64_t seq = r.at("seq").get<uint64_t>();
    if (seq > up_to) continue;
    const size_t i = std::find(ids.begin(), ids.end(), seq) - ids.begin();
    if (i == ids.size()) {
      ADD_FAILURE() << "record seq " << seq << " was never acknowledged";
      continue;
    }
    for (const Json& k : r.at("keys")) {
      if (k.get<std::string>() == TxnKey(i)) {
        s[k.get<std::string>()] = {TxnValue(i), seq};
      } else if (k.get<std::string>() == SharedKey(i)) {
        s[k.get<std::string>()] = {SharedValue(i), seq};
      } else {
        ADD_FAILURE() << "record seq " << seq << " holds unexpected key " << k.get<std::string>();
      }
    }
  }
  return s;
}

class CliTest : public ::testing::Test {
 protected:
  std::string Dir() const { return dir_.path(); }
  std::string Abs(const std::string& rel) const { return dir_.Join(rel); }

  Json WalDump() {
    const CliRun r = Cli({"wal", "dump", Dir(), "--json"});
    EXPECT_TRUE(r.code == 0 || r.code == 1) << r;
    return ParseJson(r);
  }

  // Crash fixture + garbage written right after the last valid record: a torn tail.
  void MakeTorn(size_t n) {
    ids_ = CrashAfterCommits(Dir(), n);
    const Json before = WalDump();
    ASSERT_EQ(before.at("tail").at("state").get<std::string>(), "clean");
    segment_ = Abs(before.at("tail").at("file").get<std::string>());
    valid_end_ = before.at("tail").at("offset").get<uint64_t>();
    ASSERT_EQ(valid_end_, before.at("records").at(n - 1).at("offset").get<uint64_t>() +
                              before.at("records").at(n - 1).at("length").get<uint64_t>());
    test::Overwrite(segment_, valid_end_, std::string(kGarbage));
  }

  // Crash fixture, then one bit flipped in the payload of record `bad`; valid records follow.
  void MakeCorruptMiddle(size_t n, size_t bad) {
    ids_ = CrashAfterCommits(Dir(), n);
    dump_before_ = WalDump();
    ASSERT_EQ(dump_before_.at("records").size(), n);
    const Json& rec = dump_before_.at("records").at(bad);
    segment_ = Abs(rec.at("file").get<std::string>());
    valid_end_ = rec.at("offset").get<uint64_t>();
    const Json& last = dump_before_.at("records").at(n - 1);
    data_end_ = last.at("offset").get<uint64_t>() + last.at("length").get<uint64_t>();
    const uint64_t payload = rec.at("length").get<uint64_t>() - kRecordHeaderSize;
    ASSERT_GT(payload, 4u);
    test::FlipBit(segment_, valid_end_ + kRecordHeaderSize + payload / 2, 3);
  }

  // After a repair: the records with seq <= ok_up_to of `dump` (the `wal dump --json` taken
  // before it) are exactly the first `n` transactions, the cache opens holding exactly them, and
  // `verify --json` exits 0. Returns that verify run.
  CliRun ExpectExactlyTheRecordsUpTo(const Json& dump, uint64_t ok_up_to, size_t n) {
    const State expected = StateFromDump(dump, ids_, ok_up_to);
    EXPECT_EQ(expected, StateAfter(ids_, n));
    std::string error;
    const std::optional<State> state = OpenAndReadAll(Dir(), &error);
    EXPECT_TRUE(state.has_value()) << error;
    if (state.has_value()) {
      EXPECT_EQ(*state, expected);
    }
    const CliRun v = Cli({"verify", Dir(), "--json"});
    EXPECT_EQ(v.code, 0) << v;
    return v;
  }

  static constexpr std::string_view kGarbage = "\x5a\x17\xff torn append, never acknowledged \x01";

  ScratchDir dir_;
  std::vector<uint64_t> ids_;
  Json dump_before_;
  std::string segment_;
  uint64_t valid_end_ = 0;
  uint64_t data_end_ = 0;
};

// The read-only commands, DIR left "" (see WithDir).
inline std::vector<std::vector<std::string>> ReadOnlyCommands() {
  return {{"inspect"}, {"get", "", "user:1"}, {"scan"}, {"wal", "dump"}, {"verify"}};
}

// `cmd` with `dir` put in place of its DIR argument (the first "" or the end).
inline std::vector<std::string> WithDir(std::vector<std::string> cmd, const std::string& dir) {
  auto it = std::find(cmd.begin(), cmd.end(), "");
  if (it != cmd.end()) {
    *it = dir;
  } else {
    cmd.push_back(dir);
  }
  return cmd;
}

}  // namespace walcache::cli_test

#endif  // WALCACHE_TESTS_CLI_FIXTURE_H_
