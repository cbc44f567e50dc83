// engine: the change feed across crashes. A forked child registers a consumer position, commits
// under sync durability with small segments and frequent checkpoints (so segments rotate and are
// deleted while it runs), reports each acknowledged transaction through a pipe, and is SIGKILLed;
// a second life continues the same history and is killed too. The parent then reopens and reads
// the feed from the saved position: every acknowledged transaction of both lives is there, in
// updateId order, with its effects (cascaded invalidations included), and there is no hole.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/child_process.h"
#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

Options Opts() {
  Options o;
  o.wal_segment_size = 4 << 10;
  o.compression = false;
  o.checkpoint_wal_bytes = 8 << 10;  // background checkpoints every couple of segments
  o.checkpoint_interval = std::chrono::milliseconds(20);
  return o;
}

std::string Src(int i) { return "src:" + std::to_string(i % 5); }
std::string Value(int i) { return "v" + std::to_string(i) + std::string(200, 'x'); }

// Transaction i of the history: a source, an entry derived from it, and every 7th a delete of
// another source (which cascades to what derives from it).
Result<uint64_t> RunTxn(Cache* c, int i) {
  Transaction t = c->Begin();
  t.Put(Src(i), Value(i));
  t.Put("dep:" + std::to_string(i % 5), "d" + std::to_string(i), {.related = {{Src(i), 0}}});
  if (i % 7 == 6) t.Delete(Src(i + 1));
  return t.Commit(Durability::kSync);
}

void Say(int fd, const std::string& line) {
  const std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) ::_exit(7);
}

// One life of the child: opens, (first life) commits a prefix and registers the consumer at
// its end ("pos P"), then commits transactions first_txn, first_txn + 1, ... reporting each
// acknowledged one ("ack UPDATEID I") until the parent kills it after `acks` of them.
// Returns the lines the child wrote.
std::string RunLife(const std::string& dir, bool first, int first_txn, int acks) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  test::Child child([&]() -> int {
    ::close(fds[0]);
    auto c = Cache::Open(dir, Opts());
    if (!c.ok()) ::_exit(2);
    if (first) {
      uint64_t last = 0;
      for (int i = 0; i < first_txn; ++i) {
        Result<uint64_t> id = RunTxn(c->get(), i);
        if (!id.ok()) ::_exit(3);
        last = *id;
      }
      if (!(*c)->SetFeedPosition("peer", last).ok()) ::_exit(4);
      Say(fds[1], "pos " + std::to_string(last));
    }
    for (int i = first_txn;; ++i) {
      Result<uint64_t> id = RunTxn(c->get(), i);
      if (!id.ok()) ::_exit(5);
      Say(fds[1], "ack " + std::to_string(*id) + " " + std::to_string(i));
      if (i % 23 == 0 && !(*c)->Checkpoint().ok()) ::_exit(6);
    }
  });
  ::close(fds[1]);
  std::string out, line;
  int seen = 0;
  char buf[4096];
  bool killed = false;
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    for (ssize_t k = 0; k < n; ++k) {
      out.push_back(buf[k]);
      if (buf[k] != '\n') {
        line.push_back(buf[k]);
        continue;
      }
      if (line.starts_with("ack ")) ++seen;
      line.clear();
    }
    if (!killed && seen >= acks) {
      child.Kill(SIGKILL);
      killed = true;
    }
  }
  ::close(fds[0]);
  const test::ChildExit e = child.Wait();
  EXPECT_TRUE(e.signaled() && e.signal() == SIGKILL) << e;
  return out;
}

struct Ack {
  uint64_t id;
  int txn;
};

TEST(ChangeFeedCrashTest, TheFeedFromASavedPositionResumesWithEveryAcknowledgedTransaction) {
  for (const auto& [first_acks, second_acks] :
       std::vector<std::pair<int, int>>{{40, 60}, {150, 9}}) {
    test::ScratchDir dir;
    std::istringstream lives(RunLife(dir.path(), true, 12, first_acks));
    uint64_t pos = 0;
    std::vector<Ack> acks;
    std::string word;
    while (lives >> word) {
      if (word == "pos") {
        lives >> pos;
      } else {
        Ack a{};
        lives >> a.id >> a.txn;
        acks.push_back(a);
      }
    }
    ASSERT_GT(pos, 0u);
    ASSERT_GE(acks.size(), static_cast<size_t>(first_acks));
    // The second life continues the history after what the first acknowledged; a transaction in
    // flight at the kill may have survived too, and then the second life's first id is later.
    std::istringstream second(RunLife(dir.path(), false, acks.back().txn + 1, second_acks));
    std::vector<Ack> later;
    while (second >> word) {
      Ack a{};
      second >> a.id >> a.txn;
      later.push_back(a);
    }
    ASSERT_GE(later.size(), static_cast<size_t>(second_acks));

    auto c = Cache::Open(dir.path(), Opts());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->FeedConsumers(),
              (std::vector<std::pair<std::string, uint64_t>>{{"peer", pos}}));
    std::map<uint64_t, ChangeTxn> feed;
    for (uint64_t from = pos;;) {
      auto b = (*c)->Changes(from, 64);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ASSERT_FALSE(b->gap) << "gap after " << from;
      for (const ChangeTxn& t : b->txns) {
        ASSERT_EQ(t.update_id, from + 1) << "hole";
        feed.emplace(t.update_id, t);
        from = t.update_id;
      }
      if (b->txns.empty()) break;
    }
    EXPECT_GT((*c)->Stats().checkpoint_seq, pos) << "the run should have checkpointed past pos";
    // Every acknowledged transaction, at its updateId, with its effects.
    std::vector<Ack> all = acks;
    all.insert(all.end(), later.begin(), later.end());
    uint64_t prev = pos;
    for (const Ack& a : all) {
      EXPECT_GT(a.id, prev) << "acknowledged out of order";
      prev = a.id;
      auto it = feed.find(a.id);
      ASSERT_NE(it, feed.end()) << "acknowledged transaction " << a.id << " is not in the feed";
      const std::vector<Change>& ch = it->second.changes;
      auto has = [&](const Change& want) {
        return std::find(ch.begin(), ch.end(), want) != ch.end();
      };
      const std::string dep = "dep:" + std::to_string(a.txn % 5);
      EXPECT_TRUE(has({Change::Kind::kPut, Src(a.txn), Value(a.txn), 0, {}})) << "txn " << a.txn;
      // Writing the source invalidates the entry derived from its previous value (there is
      // none when the transaction before deleted this source).
      if (a.txn >= 5 && a.txn % 7 != 0) {
        EXPECT_TRUE(has({Change::Kind::kInvalidate, dep, "", 0, {}})) << "txn " << a.txn;
      }
      EXPECT_TRUE(
          has({Change::Kind::kPut, dep, "d" + std::to_string(a.txn), 0, {{Src(a.txn), a.id}}}))
          << "txn " << a.txn;
      if (a.txn % 7 == 6) {
        // The delete, and the invalidation of the entry derived from the deleted source.
        EXPECT_TRUE(has({Change::Kind::kDelete, Src(a.txn + 1), "", 0, {}})) << "txn " << a.txn;
        EXPECT_TRUE(
            has({Change::Kind::kInvalidate, "dep:" + std::to_string((a.txn + 1) % 5), "", 0, {}}))
            << "txn " << a.txn;
      }
    }
    // Beyond the acknowledged: at most the one in flight at each kill.
    EXPECT_LE(feed.size(), all.size() + 2);
    EXPECT_EQ(feed.rbegin()->first, (*c)->Stats().last_seq);
  }
}

}  // namespace
}  // namespace walcache
