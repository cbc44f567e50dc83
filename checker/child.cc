// The crash-test child (see child.h).
#include "checker/child.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "checker/protocol.h"
#include "engine/rocks_power_loss.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache::checker {
namespace {

constexpr int kSources = 24, kDerived = 24, kMulti = 16;
constexpr uint64_t kLongTtlMs = 3'600'000;  // far beyond any run: nothing expires while checked

// Kill-point state, read by the handler (a plain function pointer).
int g_fd = -1;
const ChildPlan* g_plan = nullptr;
PowerLossLedger* g_ledger = nullptr;
PowerLossFileSystem* g_power = nullptr;
std::atomic<uint64_t> g_hits{0};

void OnKillPoint(const char* name) {
  if (g_plan->kill_point != name) return;
  if (g_hits.fetch_add(1) + 1 != g_plan->kill_hit) return;
  Send(g_fd, std::string("K ") + name);
  if (g_plan->death == Death::kPowerLoss && g_ledger != nullptr) {  // walcache's and RocksDB's
    (void)g_ledger->PowerLoss(g_plan->tear, g_plan->seed ^ (g_plan->cycle * 0x9E3779B97F4A7C15ull));
  }
  ::_exit(0);
}

Result<uint64_t> Commit(Cache* c, const Txn& t) {
  Transaction txn = c->Begin();
  for (const TxnOp& op : t.ops) {
    switch (op.kind) {
      case TxnOp::kPut:
        txn.Put(op.key, op.value, PutOptions{op.ttl_ms, op.related});
        break;
      case TxnOp::kDelete:
        txn.Delete(op.key);
        break;
      case TxnOp::kInvalidate:
        txn.Invalidate(op.key);
        break;
      case TxnOp::kTouch:
        txn.Touch(op.key, op.ttl_ms);
        break;
      case TxnOp::kExpect:
        txn.Expect(op.key, op.update_id);
        break;
      case TxnOp::kExpectAbsent:
        txn.ExpectAbsent(op.key);
        break;
    }
  }
  return txn.Commit(t.sync ? Durability::kSync : Durability::kBuffered);
}

std::string Key(char kind, uint64_t n) { return std::string(1, kind) + std::to_string(n); }

// Reads `key` and tells the parent what it saw: the oracle checks that no crash takes back a
// transaction a reader saw (DESIGN.md §1 Visibility).
Result<Entry> ReadAndReport(Cache* c, const std::string& key) {
  Result<Entry> e = c->Get(key);
  if (e.ok()) Send(g_fd, EncodeRead(key, MonotonicUs(), e->update_id, e->value));
  return e;
}

std::string AnyKey(std::mt19937_64& rng) {
  const uint64_t k = rng() % 3;
  return k == 0   ? Key('s', rng() % kSources)
         : k == 1 ? Key('d', rng() % kDerived)
                  : Key('m', rng() % kMulti);
}

// One transaction of the workload, from the thread's rng and what it reads now.
Txn MakeTxn(Cache* c, std::mt19937_64& rng, uint64_t id, const ChildPlan& plan) {
  Txn t;
  t.id = id;
  t.sync = plan.durability == DurabilityMix::kSync ||
           (plan.durability == DurabilityMix::kMixed && rng() % 2 == 0);
  const std::string value = "v" + std::to_string(id);  // see TxnOfValue
  (void)ReadAndReport(c, AnyKey(rng));
  auto ttl = [&] { return rng() % 3 == 0 ? kLongTtlMs + rng() % 1000 : 0; };
  const uint64_t kind = rng() % 100;
  if (kind < 25) {  // write a source, sometimes expecting what was read
    const std::string s = Key('s', rng() % kSources);
    if (rng() % 3 == 0) {
      Result<Entry> cur = ReadAndReport(c, s);
      if (cur.ok()) t.ops.push_back(TxnOp{TxnOp::kExpect, s, {}, 0, cur->update_id, {}});
    }
    t.ops.push_back(TxnOp{TxnOp::kPut, s, value, ttl(), 0, {}});
  } else if (kind < 50) {  // derive from one or two live entries read now
    std::vector<RelatedKey> related;
    const int n = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < n; ++i) {
      // Mostly sources; sometimes another derived entry, so invalidation has to cascade.
      const std::string src =
          rng() % 4 == 0 ? Key('d', rng() % kDerived) : Key('s', rng() % kSources);
      Result<Entry> e = ReadAndReport(c, src);
      if (e.ok()) related.push_back(RelatedKey{src, e->update_id});
    }
    const std::string d = Key('d', rng() % kDerived);
    related.erase(std::remove_if(related.begin(), related.end(),
                                 [&](const RelatedKey& r) { return r.key == d; }),
                  related.end());
    if (related.empty()) related.clear();
    t.ops.push_back(TxnOp{TxnOp::kPut, d, value, ttl(), 0, related});
  } else if (kind < 65) {  // a source and an entry derived from it in one transaction
    const std::string s = Key('s', rng() % kSources), d = Key('d', rng() % kDerived);
    t.ops.push_back(TxnOp{TxnOp::kPut, s, value, ttl(), 0, {}});
    t.ops.push_back(TxnOp{TxnOp::kPut, d, value + "d", 0, 0, {RelatedKey{s, 0}}});
  } else if (kind < 80) {  // several independent keys at once
    const std::string a = Key('m', rng() % kMulti), b = Key('m', rng() % kMulti),
                      z = Key('m', rng() % kMulti);
    if (rng() % 4 == 0) t.ops.push_back(TxnOp{TxnOp::kExpectAbsent, z, {}, 0, 0, {}});
    t.ops.push_back(TxnOp{TxnOp::kPut, a, value + "a", 0, 0, {}});
    if (b != a) t.ops.push_back(TxnOp{TxnOp::kPut, b, value + "b", ttl(), 0, {}});
    if (z != a && z != b) t.ops.push_back(TxnOp{TxnOp::kDelete, z, {}, 0, 0, {}});
  } else if (kind < 90) {  // delete a source or invalidate a derived entry
    if (rng() % 2 == 0) {
      t.ops.push_back(TxnOp{TxnOp::kDelete, Key('s', rng() % kSources), {}, 0, 0, {}});
    } else {
      t.ops.push_back(TxnOp{TxnOp::kInvalidate, Key('d', rng() % kDerived), {}, 0, 0, {}});
    }
  } else {  // touch (lengthen, shorten, clear), with a write so the transaction is never empty
    const std::string k = rng() % 2 == 0 ? Key('s', rng() % kSources) : Key('d', rng() % kDerived);
    const uint64_t ttls[] = {0, kLongTtlMs, 2 * kLongTtlMs};
    t.ops.push_back(TxnOp{TxnOp::kTouch, k, {}, ttls[rng() % 3], 0, {}});
    t.ops.push_back(TxnOp{TxnOp::kPut, Key('m', rng() % kMulti), value + "t", 0, 0, {}});
  }
  return t;
}

}  // namespace

int64_t MonotonicUs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void RunChild(const ChildPlan& plan, int fd) {
  g_fd = fd;
  g_plan = &plan;
  if (!InjectBug(plan.inject_bug).ok()) ::_exit(2);
  {
    // Every child, whatever its death, records what it leaves unsynced in the ledger the parent
    // shares with all children: a later child's power loss must still take back what this one's
    // death left in the page cache. Only a power-loss death applies it (OnKillPoint).
    g_ledger = CrashTestLedger();
    if (g_ledger == nullptr) {  // run without the parent's ledger: this child's state only
      Result<std::unique_ptr<PowerLossLedger>> own = PowerLossLedger::CreatePrivate(plan.dir);
      if (!own.ok()) {
        Send(fd, "F " + own.status().ToString());
        ::_exit(3);
      }
      g_ledger = own->release();
    }
    g_ledger->Attach();
    g_power = new PowerLossFileSystem(FileSystem::Posix(), g_ledger);
    FileSystem::SetDefaultForCrashTest(g_power);
    engine::SetRocksFileSystemForCrashTest(
        std::make_shared<engine::RocksPowerLossFs>(rocksdb::FileSystem::Default(), g_ledger));
  }
  if (plan.death == Death::kKillPoint || plan.death == Death::kPowerLoss) {
    SetKillPointHandler(&OnKillPoint);
  }
  Options o;
  o.wal_segment_size = 64 << 10;  // rotations and segment deletions happen every cycle
  o.memory_budget_bytes = 4 << 20;
  o.checkpoint_dirty_bytes = 64 << 10;
  o.checkpoint_wal_bytes = 512 << 10;
  o.checkpoint_interval = std::chrono::milliseconds(300);
  o.sync_interval = std::chrono::milliseconds(20);
  Result<std::unique_ptr<Cache>> opened = Cache::Open(plan.dir, o);
  if (!opened.ok()) {
    Send(fd, "F " + opened.status().ToString());
    ::_exit(3);
  }
  Cache* c = opened->get();
  Status scan = c->Scan("", [&](std::string_view key, const Entry& e) {
    Send(fd, EncodeEntry(std::string(key),
                         ModelEntry{e.value, e.update_id, e.expires_at != 0, e.related}));
    return true;
  });
  if (!scan.ok()) {
    Send(fd, "F " + scan.ToString());
    ::_exit(3);
  }
  Send(fd,
       "L " + std::to_string(c->Stats().last_seq) + " " + std::to_string(c->LastRecovery().micros));
  if (plan.death == Death::kNone) {
    opened->reset();  // a clean close
    ::_exit(0);
  }
  std::vector<std::thread> threads;
  for (int th = 0; th < plan.threads; ++th) {
    threads.emplace_back([&, th] {
      std::mt19937_64 rng(plan.seed * 1'000'003 + plan.cycle * 1'009 + static_cast<uint64_t>(th));
      for (uint64_t n = 0;; ++n) {
        if (th == 0 && n % 50 == 49) (void)c->Checkpoint();
        const uint64_t id = ((plan.cycle + 1) << 32) | (static_cast<uint64_t>(th) << 24) | n;
        Txn t = MakeTxn(c, rng, id, plan);
        t.ts_us = MonotonicUs();
        if (!Send(fd, EncodeIntent(t))) ::_exit(4);
        Result<uint64_t> r = Commit(c, t);
        const std::string tail = std::to_string(id) + " " + std::to_string(MonotonicUs());
        if (r.ok()) {
          Send(fd, "A " + tail + " " + std::to_string(*r));
        } else if (r.status().IsConflict() || r.status().IsInvalidArgument()) {  // no effect
          Send(fd, "C " + tail);
        } else {
          Send(fd, "X " + tail);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a failed cache: wait
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();  // never: the child dies first
  ::_exit(0);
}

}  // namespace walcache::checker
