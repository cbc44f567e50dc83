// engine + recovery: every step of commit, checkpoint, segment deletion and recovery is safe to
// interrupt. A forked child runs a sync workload and _exits at the n-th time a named kill point
// fires; the parent reopens and checks that the state is exactly the state after some prefix of
// the history that includes every acknowledged transaction (I2, I3, I4), and I1.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "tests/child_process.h"
#include "tests/test_util.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

constexpr int kTxns = 120;

// The child's kill point: _exit(0) at the n-th firing of the named point.
const char* g_point = nullptr;
int g_countdown = 0;
void KillAt(const char* name) {
  if (std::strcmp(name, g_point) == 0 && --g_countdown == 0) ::_exit(0);
}

Options Opts() {
  Options o;
  o.wal_segment_size = 4 << 10;
  o.compression = false;
  return o;
}

// Transaction i of the history: a source and a value derived from it.
Status RunTxn(Cache* c, int i) {
  Transaction t = c->Begin();
  const std::string k = std::to_string(i % 5);
  t.Put("src:" + k, "v" + std::to_string(i) + std::string(200, 'x'));
  t.Put("dep:" + k, "d" + std::to_string(i), {.related = {{"src:" + k, 0}}});
  if (i % 7 == 6) t.Delete("src:" + std::to_string((i + 1) % 5));  // cascades to its dep
  return t.Commit().status();
}

// Key -> value after the first n transactions.
std::map<std::string, std::string> ModelAfter(int n) {
  std::map<std::string, std::string> m;
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(i % 5);
    m["src:" + k] = "v" + std::to_string(i) + std::string(200, 'x');
    m["dep:" + k] = "d" + std::to_string(i);
    if (i % 7 == 6) {
      const std::string gone = std::to_string((i + 1) % 5);
      m.erase("src:" + gone);
      m.erase("dep:" + gone);
    }
  }
  return m;
}

// Runs the history in a child that dies at `point` (its n-th firing); returns how many
// transactions were acknowledged.
int RunChildUntilKilled(const std::string& dir, const char* point, int n, bool* died) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  test::Child child([&]() -> int {
    ::close(fds[0]);
    g_point = point;
    g_countdown = n;
    SetKillPointHandler(&KillAt);
    auto c = Cache::Open(dir, Opts());
    if (!c.ok()) ::_exit(2);
    for (int i = 0; i < kTxns; ++i) {
      if (!RunTxn(c->get(), i).ok()) ::_exit(3);
      const char ack = 1;
      (void)!::write(fds[1], &ack, 1);
      if (i % 25 == 24 && !(*c)->Checkpoint().ok()) ::_exit(4);
    }
    ::_exit(5);  // the point never fired often enough
  });
  ::close(fds[1]);
  int acked = 0;
  char b;
  while (::read(fds[0], &b, 1) == 1) ++acked;
  ::close(fds[0]);
  const test::ChildExit e = child.Wait();
  EXPECT_TRUE(e.exited()) << e;
  *died = e.ok();
  EXPECT_TRUE(e.code() == 0 || e.code() == 5) << e;
  return acked;
}

void ExpectPrefixState(Cache* c, int acked, const std::string& where) {
  std::map<std::string, std::string> got;
  std::map<std::string, Entry> entries;
  ASSERT_TRUE(c->Scan("", [&](std::string_view k, const Entry& e) {
                 got.emplace(std::string(k), e.value);
                 entries.emplace(std::string(k), e);
                 return true;
               }).ok());
  // Every acknowledged transaction, and at most the one in flight.
  const bool exact = got == ModelAfter(acked);
  const bool plus_one = acked < kTxns && got == ModelAfter(acked + 1);
  EXPECT_TRUE(exact || plus_one) << where << ": recovered state is no prefix of the history "
                                 << "including the " << acked << " acknowledged transactions";
  for (const auto& [k, e] : entries) {
    for (const RelatedKey& r : e.related) {
      auto src = entries.find(r.key);
      ASSERT_NE(src, entries.end()) << where << ": " << k << " outlives " << r.key;
      EXPECT_EQ(src->second.update_id, r.update_id) << where << ": " << k;
    }
  }
}

class CacheCrashTest : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(CacheCrashTest, DyingAtAKillPointLosesNothingAcknowledged) {
  const auto [point, n] = GetParam();
  test::ScratchDir dir;
  bool died = false;
  const int acked = RunChildUntilKilled(dir.path(), point, n, &died);
  ASSERT_TRUE(died) << point << " never fired " << n << " times";
  auto c = Cache::Open(dir.path(), Opts());
  ASSERT_TRUE(c.ok()) << point << ": " << c.status().ToString();
  ExpectPrefixState(c->get(), acked, point);
  // The reopened cache keeps working and survives another reopen.
  ASSERT_TRUE(RunTxn(c->get(), acked).ok());
  c->reset();
  auto again = Cache::Open(dir.path(), Opts());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    KillPoints, CacheCrashTest,
    ::testing::Values(std::pair{KillPointName(KillPoint::kWalBeforeWrite), 40},
                      std::pair{KillPointName(KillPoint::kWalAfterWrite), 40},
                      std::pair{KillPointName(KillPoint::kWalBeforeSync), 40},
                      std::pair{KillPointName(KillPoint::kWalAfterSync), 40},
                      std::pair{KillPointName(KillPoint::kWalRotate), 5},
                      std::pair{KillPointName(KillPoint::kWalSegmentCreated), 3},
                      std::pair{KillPointName(KillPoint::kEngineApply), 40},
                      std::pair{KillPointName(KillPoint::kCheckpointPinned), 3},
                      std::pair{KillPointName(KillPoint::kCheckpointBeforeStoreWrite), 3},
                      std::pair{KillPointName(KillPoint::kCheckpointAfterStoreWrite), 3},
                      std::pair{KillPointName(KillPoint::kCheckpointBeforeSegmentDelete), 3},
                      std::pair{KillPointName(KillPoint::kWalSegmentDeleted), 2},
                      std::pair{KillPointName(KillPoint::kCheckpointAfterSegmentDelete), 3}),
    [](const auto& info) {
      std::string name = info.param.first;
      for (char& ch : name) {
        if (ch == '.') ch = '_';
      }
      return name;
    });

TEST(CacheRecoveryCrashTest, DyingDuringRecoveryLeavesADirectoryTheNextOpenRecovers) {
  test::ScratchDir dir;
  bool died = false;
  // First death: mid-history, right after a WAL write (a long WAL after the last checkpoint).
  const int acked =
      RunChildUntilKilled(dir.path(), KillPointName(KillPoint::kWalAfterWrite), 95, &died);
  ASSERT_TRUE(died);
  // Second death: while replaying that WAL.
  const test::ChildExit e = test::RunInChild([&] {
    g_point = KillPointName(KillPoint::kRecoveryReplay);
    g_countdown = 2;
    SetKillPointHandler(&KillAt);
    (void)Cache::Open(dir.path(), Opts());
    return 5;
  });
  ASSERT_TRUE(e.ok()) << "recovery.replay never fired: " << e;
  auto c = Cache::Open(dir.path(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExpectPrefixState(c->get(), acked, "after a death during recovery");
}

}  // namespace
}  // namespace walcache
