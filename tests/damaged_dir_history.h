// The damaged-directory suite's cache directory (tests/damaged_dir_test.cc): the history it
// writes — sources, entries derived from them at their updateIds, deletes that cascade — the
// model of that history, I1 on a recovered state, and the template directory built once per test
// process from two processes' worth of it.
//
// Thread-safety: not thread-safe; one test at a time.
#ifndef WALCACHE_TESTS_DAMAGED_DIR_HISTORY_H_
#define WALCACHE_TESTS_DAMAGED_DIR_HISTORY_H_

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/cache_in_child.h"
#include "tests/cli_run.h"
#include "tests/dir_snapshot.h"
#include "tests/test_util.h"

namespace walcache::cli_test {

using test::ScratchDir;
namespace damaged_dir {

// ---- The history: sources, entries derived from them, deletes that cascade ----------------------

constexpr size_t kPhaseA = 40;  // committed, compacted into an SST, closed (checkpointed)
constexpr size_t kPhaseB = 40;  // committed after a reopen, then checkpointed: in RocksDB's log
constexpr size_t kPhaseC = 48;  // committed after that checkpoint: only in walcache's WAL
constexpr size_t kTxns = kPhaseA + kPhaseB + kPhaseC;

Options DamageOptions() {
  Options o = TestOptions();
  o.wal_segment_size = 4 << 10;  // a dozen records a segment: several segments after the checkpoint
  return o;
}

std::string UserKey(size_t i) { return "user:" + std::to_string(i % 5); }
// 100 pseudo-random letters: they do not compress.
std::string UserValue(size_t i) {
  std::mt19937 rng(static_cast<uint32_t>(i));
  std::string v = "u" + std::to_string(i) + ":";
  while (v.size() < 100) v += static_cast<char>('a' + rng() % 26);
  return v;
}
std::string ProfileKey(size_t i) { return "profile:" + std::to_string(i % 5); }
// Odd transactions carry a long, repetitive profile, so their records are LZ4-compressed.
std::string ProfileValue(size_t i) {
  return "<p>" + std::to_string(i) + (i % 2 == 1 ? std::string(400, 'x') : "") + "</p>";
}
std::string FeedKey(size_t i) { return "feed:" + std::to_string(i % 4); }
bool HasFeed(size_t i) { return i % 3 == 2; }      // derived from the previous transaction's user
bool DeletesUser(size_t i) { return i % 7 == 6; }  // deletes user (i + 2) % 5, which cascades

// Transaction i: user:i%5, profile:i%5 derived from it, sometimes a feed derived from the user the
// previous transaction wrote (at its updateId, ids[i - 1]), sometimes a delete.
Result<uint64_t> CommitTxn(Cache* c, size_t i, const std::vector<uint64_t>& ids) {
  Transaction t = c->Begin();
  t.Put(UserKey(i), UserValue(i));
  t.Put(ProfileKey(i), ProfileValue(i), {.related = {{UserKey(i), 0}}});
  if (HasFeed(i)) {
    t.Put(FeedKey(i), "f" + std::to_string(i), {.related = {{UserKey(i - 1), ids[i - 1]}}});
  }
  if (DeletesUser(i)) t.Delete(UserKey(i + 2));
  return t.Commit();
}

// The state after the first n transactions.
State ModelAfter(const std::vector<uint64_t>& ids, size_t n) {
  State s;
  // Writing or deleting `key` invalidates every entry derived from it.
  auto write = [&s](const std::string& key) {
    s.erase(key);
    std::erase_if(s, [&](const auto& kv) {
      return ("," + kv.second.related).find("," + key + "@") != std::string::npos;
    });
  };
  for (size_t i = 0; i < n; ++i) {
    write(UserKey(i));
    s[UserKey(i)] = {UserValue(i), ids[i]};
    write(ProfileKey(i));
    s[ProfileKey(i)] = {ProfileValue(i), ids[i], UserKey(i) + "@" + std::to_string(ids[i])};
    if (HasFeed(i)) {
      write(FeedKey(i));
      s[FeedKey(i)] = {"f" + std::to_string(i), ids[i],
                       UserKey(i - 1) + "@" + std::to_string(ids[i - 1])};
    }
    if (DeletesUser(i)) write(UserKey(i + 2));
  }
  return s;
}

// I1 on a recovered state: every related (source, update_id) of every entry is live at exactly
// that update_id. Returns the violations.
std::vector<std::string> I1Violations(const State& s) {
  std::vector<std::string> out;
  for (const auto& [key, item] : s) {
    std::istringstream related(item.related);
    std::string r;
    while (std::getline(related, r, ',')) {
      const size_t at = r.rfind('@');
      auto src = s.find(r.substr(0, at));
      if (src == s.end() || std::to_string(src->second.update_id) != r.substr(at + 1)) {
        out.push_back(key + " derives from " + r + ", which is " +
                      (src == s.end() ? "absent" : "at " + std::to_string(src->second.update_id)));
      }
    }
  }
  return out;
}

// ---- The directory ------------------------------------------------------------------------------

// Made once per test process: two processes' worth of history. The first commits phase A, forces
// a checkpoint and a full compaction (an SST), and closes; the second reopens (LAST_RECOVERY,
// RocksDB's LOG.old), commits phase B and checkpoints it (segments deleted; the batch sits in
// RocksDB's log), commits phase C and dies without closing, so recovery has several segments of
// records to replay.
struct Template {
  Template() : dir(scratch.Join("cache")) {
    auto run = [&](size_t from, size_t to) {
      const std::string text = InChild([&]() -> std::string {
        auto c = Cache::Open(dir, DamageOptions());
        if (!c.ok()) return "ERROR " + c.status().ToString();
        std::string out;
        for (size_t i = from; i < to; ++i) {
          if (i == kPhaseA + kPhaseB) {
            const Status s = (*c)->Checkpoint();
            if (!s.ok()) return "ERROR checkpoint: " + s.ToString();
          }
          Result<uint64_t> id = CommitTxn(c->get(), i, ids);
          if (!id.ok()) return "ERROR txn " + std::to_string(i) + ": " + id.status().ToString();
          ids.push_back(*id);  // the child's copy
          out += std::to_string(*id) + "\n";
        }
        if (to == kPhaseA) {
          // DIR/FEED gets the history id (and below, a consumer that retains nothing).
          auto feed = (*c)->Changes(ids.back(), 1);
          if (!feed.ok()) return "ERROR feed: " + feed.status().ToString();
          const Status s = (*c)->Compact();
          return s.ok() ? out : "ERROR compact: " + s.ToString();  // ~Cache: closes
        }
        const Status f = (*c)->SetFeedPosition("peer", ids.back());  // no checkpoint follows
        if (!f.ok()) return "ERROR feed: " + f.ToString();
        (void)std::move(c).value().release();  // dies without a close: no checkpoint
        return out;
      });
      std::istringstream in(text);
      for (uint64_t id = 0; in >> id;) ids.push_back(id);
    };
    run(0, kPhaseA);
    run(kPhaseA, kTxns);
    EXPECT_EQ(ids.size(), kTxns);
    const std::vector<std::string> segments = test::SegmentPaths(dir + "/wal");
    EXPECT_GE(segments.size(), 3u);
    if (segments.empty()) return;
    newest = fs::relative(segments.back(), dir).string();
    const std::string header = test::ReadFile(segments.back()).substr(0, kSegmentHeaderSize);
    for (int b = 7; b >= 0; --b) {  // first seq: u64 little-endian at offset 24
      newest_first_seq = newest_first_seq << 8 | static_cast<uint8_t>(header[24 + b]);
    }
  }

  ScratchDir scratch;
  std::string dir;
  std::vector<uint64_t> ids;  // the acknowledged updateId of each transaction
  std::string newest;         // the newest WAL segment, relative to dir
  uint64_t newest_first_seq = 0;
};

const Template& Tmpl() {
  static Template t;
  return t;
}

}  // namespace damaged_dir
}  // namespace walcache::cli_test

#endif  // WALCACHE_TESTS_DAMAGED_DIR_HISTORY_H_
