// The crash-test child (see child.h).
#include "checker/child.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "checker/aimed_hold.h"
#include "checker/child_internal.h"
#include "checker/pin_window.h"
#include "checker/protocol.h"
#include "checker/read_hold.h"
#include "checker/rocks_power_loss.h"
#include "checker/workload.h"
#include "engine/seams.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "wal/reader.h"
#include "walcache/cache.h"

namespace walcache::checker {
namespace {

// The whole-API workload (checker/workload.h): few keys, so transactions meet; TTLs that expire
// within a cycle and across deaths; at least one write per transaction (crash_test.h).
WorkloadShape ChildShape() {
  WorkloadShape w;
  w.sources = 10;
  w.derived = 10;
  w.multi = 6;
  w.short_ttl_ms = 300;
  w.long_ttl_ms = 4000;
  w.max_related = 4;
  w.always_write = true;
  return w;
}

// Kill-point state, read by the handler (a plain function pointer).
int g_fd = -1;
const ChildPlan* g_plan = nullptr;
PowerLossLedger* g_ledger = nullptr;
PowerLossFileSystem* g_power = nullptr;
std::atomic<uint64_t> g_hits{0};

void OnSequenced();

std::atomic<bool> g_rotated{false};  // a WAL rotation began ("wal.rotate") since it was cleared
// When set, a death at a segment deletion counts only the passes of rotation windows'
// checkpoints (RotationWindow), on the thread that marks itself here.
bool g_aim_rotation = false;
thread_local bool tl_rotation_checkpoint = false;

// Every kill point passes the aimed hold, the pin window and the read hold first (either may hold
// the thread there a while), then kills if this child is to die at it.
void OnKillPoint(const char* name) {
  AimedHold::AtKillPoint(name);
  PinWindow::AtKillPoint(name);
  ReadHold::AtKillPoint(name);
  if (std::strcmp(name, KillPointName(KillPoint::kEngineApply)) == 0) OnSequenced();
  if (std::strcmp(name, KillPointName(KillPoint::kWalRotate)) == 0) g_rotated = true;
  if (g_plan->death != Death::kKillPoint && g_plan->death != Death::kPowerLoss) return;
  if (g_plan->kill_point != name) return;
  if (g_aim_rotation && !tl_rotation_checkpoint) return;
  if (g_hits.fetch_add(1) + 1 != g_plan->kill_hit) return;
  Send(g_fd, std::string("K ") + name);
  if (g_plan->death == Death::kPowerLoss && g_ledger != nullptr) {  // walcache's and RocksDB's
    (void)g_ledger->PowerLoss(g_plan->tear, g_plan->seed ^ (g_plan->cycle * 0x9E3779B97F4A7C15ull));
  }
  ::_exit(0);
}

// The cache's clock: the system's, in steps. While a workload thread commits, the first reading
// is that transaction's instant (the cache reads its clock once per transaction, when it
// sequences it: cache.h), sent to the parent before the cache may use it, so the model knows the
// exact time of every transaction that can have had an effect. The cache's time is the largest
// reading it has seen (it never goes back), so a reading reported as an instant must not be
// passed by another thread's reading before the cache has taken it: the clock holds still while
// any commit is between its reading and its sequencing (OnSequenced; its return, for one with
// nothing to log), and a ticker moves it to the system's time between them (writers first, so
// commits cannot starve it). Commits waiting for their WAL sync do not hold it.
class StepClock {
 public:
  uint64_t now() const { return now_.load(std::memory_order_acquire); }
  // The reading of commit `id`: holds the clock still until Release(id), or until the next
  // commit's reading — the cache reads the clock under its sequencer's lock, so by then it has
  // long taken the earlier reading.
  uint64_t Hold(uint64_t id) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !ticking_; });
    holder_ = id;
    return now();
  }
  void Release(uint64_t id) {
    std::lock_guard<std::mutex> l(mu_);
    if (holder_ != id) return;
    holder_ = 0;
    cv_.notify_all();
  }
  // Moves the clock to the system's time plus the jumps so far (never back) once no commit
  // holds it.
  void Advance(uint64_t system_ms) {
    std::unique_lock<std::mutex> l(mu_);
    ticking_ = true;
    cv_.wait(l, [&] { return holder_ == 0; });
    if (const uint64_t jump = jump_.exchange(0); jump != 0) {
      offset_ += jump;
      // Before any reading shows it: the next child's clock must start past it (child.h).
      Send(g_fd, "W " + std::to_string(offset_));
    }
    const uint64_t ms = system_ms + offset_;
    if (ms > now()) now_.store(ms, std::memory_order_release);
    ticking_ = false;
    cv_.notify_all();
  }
  // The next Advance jumps `ms` ahead (time passes in a leap, as it does for a cache whose
  // process stalled): everything stored with an expiry in that leap expires at once.
  void Jump(uint64_t ms) { jump_ += ms; }
  // Starts the clock `offset_ms` ahead of the system's, and at `floor_ms` at least.
  void Start(uint64_t system_ms, uint64_t floor_ms, uint64_t offset_ms) {
    offset_ = std::max(offset_ms, floor_ms > system_ms ? floor_ms - system_ms : 0);
    now_.store(system_ms + offset_, std::memory_order_release);
  }

 private:
  std::atomic<uint64_t> now_{0};
  std::atomic<uint64_t> jump_{0};
  uint64_t offset_ = 0;  // guarded by mu_ (or single-threaded before the workload starts)
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t holder_ = 0;  // the commit whose reading holds the clock, or 0
  bool ticking_ = false;
};

StepClock g_clock;

// Lets the compactor stop the workload threads between their transactions while it opens a pin
// window in a child that is to die right after a compaction: with the workload running, its
// commits rewrite the touched keys (or a checkpoint stores them) before the death, and the
// window closes unseen.
class Gate {
 public:
  void Enter() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !closed_; });
    ++inside_;
  }
  void Leave() {
    std::lock_guard<std::mutex> l(mu_);
    if (--inside_ == 0) cv_.notify_all();
  }
  // Waits until no workload thread is inside a transaction; keeps them out until Open().
  void Close() {
    std::unique_lock<std::mutex> l(mu_);
    closed_ = true;
    cv_.wait(l, [&] { return inside_ == 0; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int inside_ = 0;
};

Gate g_gate;
thread_local uint64_t tl_committing = 0;  // the txn id this thread is committing, or 0
thread_local bool tl_holding = false;     // this thread's commit holds g_clock
thread_local uint64_t tl_held_for = 0;    // the txn id whose reading holds it

// The cache has sequenced this thread's transaction (kill point engine.apply, reached under its
// sequencer's lock): it has taken the clock's reading, so the clock may move on while the commit
// waits for its WAL write and sync. A checkpoint that pins meanwhile must take its expiry horizon
// from that transaction's instant, not from the clock's time (engine HorizonAt): with the clock
// held until commits return, the two were always equal and the rule could not be checked.
void OnSequenced() {
  if (!tl_holding) return;
  tl_holding = false;
  g_clock.Release(tl_held_for);
}

uint64_t WallMs() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

uint64_t ChildClock() {
  if (tl_committing == 0) return g_clock.now();
  const uint64_t now = g_clock.Hold(tl_committing);
  tl_holding = true;
  tl_held_for = tl_committing;
  Send(g_fd, "T " + std::to_string(tl_committing) + " " + std::to_string(now));
  tl_committing = 0;
  return now;
}

// Reads `key` and tells the parent what it saw: the oracle checks that no crash takes back a
// transaction a reader saw (docs/design.md §1 Visibility) and that a read that started after an
// acknowledgement sees it. `start` is when the read began.
Result<Entry> ReadAndReport(Cache* c, const std::string& key) {
  const uint64_t held = ReadHold::HeldOnThisThread();
  const int64_t start = MonotonicUs();
  Result<Entry> e = [&] {
    ReadHold::Reading hold;  // now and then a read-through waits before it fills (read_hold.h)
    return c->Get(key);
  }();
  if (e.ok()) Send(g_fd, EncodeRead(key, start, e->update_id, e->value));  // a plain Get
  if (ReadHold::HeldOnThisThread() != held) {  // held: read it again at once (read_hold.h)
    const int64_t again_start = MonotonicUs();
    Result<Entry> again = c->Get(key);
    if (again.ok()) {
      Send(g_fd,
           EncodeRead(key, again_start, again->update_id, again->value, "get-after-held-fill"));
    }
    return again;
  }
  return e;
}

// A Scan is read like Gets: every entry it visits is a read that began when the scan did.
void ScanAndReport(Cache* c) {
  const int64_t start = MonotonicUs();
  (void)c->Scan("", [&](std::string_view key, const Entry& e) {
    Send(g_fd, EncodeRead(std::string(key), start, e.update_id, e.value, "scan"));
    return true;
  });
}

// The bug report's race, live: a source read at updateId v, then an entry derived from it read
// after, must never carry the source at an updateId below v (the derived entry would be older
// than a source already seen). Sends a 'V' message when it does.
void CheckDerivedAfterSource(Cache* c, const Generator& gen, std::mt19937_64& rng) {
  const std::string d = "d" + std::to_string(rng() % static_cast<uint64_t>(gen.shape().derived));
  Result<Entry> first = c->Get(d);
  if (!first.ok() || first->related.empty()) return;
  const RelatedKey& r = first->related[rng() % first->related.size()];
  Result<Entry> src = ReadAndReport(c, r.key);
  if (!src.ok()) return;
  Result<Entry> again = ReadAndReport(c, d);
  if (!again.ok()) return;
  for (const RelatedKey& rr : again->related) {
    if (rr.key == r.key && rr.update_id < src->update_id) {
      Send(g_fd, "V '" + d + "' (update_id " + std::to_string(again->update_id) +
                     ") was read derived from '" + r.key + "' at update_id " +
                     std::to_string(rr.update_id) + " after '" + r.key +
                     "' itself was read at update_id " + std::to_string(src->update_id));
    }
  }
}

// Recovery repairs a torn tail before anything is appended after it (docs/design.md §3): the log
// it leaves must read clean to its end, or a later open refuses it (the newest segment is no
// longer the one that was torn). Checked right after the open, before the first checkpoint can
// delete the segments the recovery replayed — and with every checkpoint held at its pin while
// the reader lists and reads, so that none deletes one under it. Sends a 'V' message when the
// log does not read clean; a read that fails for another reason says nothing (inconclusive).
void CheckRecoveredWal(const std::string& dir) {
  PinWindow::HoldEveryCheckpoint(true);
  std::string problem;
  Result<std::unique_ptr<wal::Reader>> r = wal::Reader::Open(FileSystem::Posix(), dir + "/wal");
  if (r.ok()) {
    wal::WalRecord rec;
    while (true) {
      Result<bool> more = (*r)->Next(&rec);
      if (!more.ok()) {
        if (more.status().IsCorruption()) problem = more.status().ToString();
        break;
      }
      if (!*more) {
        const wal::TailReport& t = (*r)->tail();
        if (t.state != wal::TailState::kClean) {
          problem = std::string(wal::TailStateName(t.state)) + " tail in " + t.file + " at " +
                    std::to_string(t.valid_end) + ": " + t.detail;
        }
        break;
      }
    }
  }
  PinWindow::HoldEveryCheckpoint(false);
  if (!problem.empty()) {
    Send(g_fd, "V recovery left a WAL that does not read clean to its end: " + problem);
  }
}

// Sends the intent, commits (the clock reports the instant), sends the outcome.
void CommitAndReport(Cache* c, Txn* t, const ChildPlan& plan, std::mt19937_64& rng) {
  t->sync = plan.durability == DurabilityMix::kSync ||
            (plan.durability == DurabilityMix::kMixed && rng() % 2 == 0);
  t->ts_us = MonotonicUs();
  if (!Send(g_fd, EncodeIntent(*t))) ::_exit(4);
  ClockForCommit(t->id);
  Result<uint64_t> r = CommitTxn(c, *t, t->sync ? Durability::kSync : Durability::kBuffered);
  EndClockForCommit();
  const std::string tail = std::to_string(t->id) + " " + std::to_string(MonotonicUs());
  if (r.ok()) {
    Send(g_fd, "A " + tail + " " + std::to_string(*r));
  } else if (r.status().IsConflict()) {  // no effect
    Send(g_fd, "C " + tail);
  } else if (r.status().IsInvalidArgument()) {  // no effect
    Send(g_fd, "N " + tail);
  } else {
    Send(g_fd, "X " + tail);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a failed cache: wait
  }
}

}  // namespace

// ---- For the compactor and the API checks (child_internal.h). ----

void ClockForCommit(uint64_t txn_id) { tl_committing = txn_id; }
void EndClockForCommit() {
  tl_committing = 0;
  if (tl_holding) {
    tl_holding = false;
    g_clock.Release(tl_held_for);
  }
}

Result<Entry> ChildRead(Cache* c, const std::string& key) { return ReadAndReport(c, key); }
bool ChildSend(std::string line) { return Send(g_fd, std::move(line)); }
void ChildCommit(Cache* c, Txn* t, const ChildPlan& plan, std::mt19937_64& rng) {
  CommitAndReport(c, t, plan, rng);
}
uint64_t ChildClockNow() { return g_clock.now(); }
void ChildClockLeap(uint64_t ms) {
  g_clock.Jump(ms);
  g_clock.Advance(WallMs());
}
void GateClose() { g_gate.Close(); }
void GateOpen() { g_gate.Open(); }
bool AimRotation() { return g_aim_rotation; }
void ClearRotated() { g_rotated = false; }
bool Rotated() { return g_rotated; }
void MarkRotationCheckpoint(bool on) { tl_rotation_checkpoint = on; }

Limits ChildLimits() { return Limits{.max_related = ChildShape().max_related}; }

int64_t MonotonicUs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void RunChild(const ChildPlan& plan, int fd, PowerLossLedger* ledger) {
  g_fd = fd;
  g_plan = &plan;
  if (!InjectBug(plan.inject_bug).ok()) ::_exit(2);
  {
    // Every child, whatever its death, records what it leaves unsynced in the ledger the parent
    // shares with all children: a later child's power loss must still take back what this one's
    // death left in the page cache. Only a power-loss death applies it (OnKillPoint).
    g_ledger = ledger;
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
  }
  // The cache runs over both power-loss layers, walcache's files and RocksDB's (engine/seams.h).
  const engine::Seams seams{
      g_power, std::make_shared<RocksPowerLossFs>(rocksdb::FileSystem::Default(), g_ledger)};
  // Half the deaths at "wal.segment_deleted" and "checkpoint.after_segment_delete" are aimed at
  // rotation windows.
  g_aim_rotation = (plan.kill_point == KillPointName(KillPoint::kWalSegmentDeleted) ||
                    plan.kill_point == KillPointName(KillPoint::kCheckpointAfterSegmentDelete)) &&
                   (plan.seed ^ plan.cycle) % 2 == 0;
  SetKillPointHandler(&OnKillPoint);
  g_clock.Start(WallMs(), plan.clock_floor_ms, plan.clock_offset_ms);
  Options o;
  o.clock_ms = &ChildClock;
  o.wal_segment_size = 16 << 10;    // rotations, also inside checkpoints, and deletions every cycle
  o.memory_budget_bytes = 4 << 10;  // far below the data: eviction and read-through all along
  o.checkpoint_dirty_bytes = 16 << 10;
  o.checkpoint_wal_bytes = 128 << 10;
  o.checkpoint_interval = std::chrono::milliseconds(100);
  o.sync_interval = std::chrono::milliseconds(20);
  o.expiry_sweep_interval = std::chrono::milliseconds(50);
  o.max_related = ChildLimits().max_related;
  o.write_buffer_bytes = 64 << 10;  // RocksDB flushes and compacts (expiry filter) between them
  Result<std::unique_ptr<Cache>> opened = engine::CacheOpener::Open(plan.dir, o, seams);
  if (!opened.ok()) {
    Send(fd, "F " + opened.status().ToString());
    ::_exit(3);
  }
  Cache* c = opened->get();
  CheckRecoveredWal(plan.dir);
  // The dump: Scan judges expiry at one instant, between these two readings of the clock.
  const uint64_t scan_from = g_clock.now();
  Status scan = c->Scan("", [&](std::string_view key, const Entry& e) {
    Send(fd,
         EncodeEntry(std::string(key), ModelEntry{e.value, e.update_id, e.expires_at, e.related}));
    return true;
  });
  const uint64_t scan_to = g_clock.now();
  if (!scan.ok()) {
    Send(fd, "F " + scan.ToString());
    ::_exit(3);
  }
  Send(fd, "L " + std::to_string(c->Stats().last_seq) + " " +
               std::to_string(c->LastRecovery().micros) + " " + std::to_string(scan_from) + " " +
               std::to_string(scan_to));
  if (plan.death == Death::kNone) {
    opened->reset();  // a clean close
    ::_exit(0);
  }
  const Generator gen(ChildShape());
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(plan.threads) + 3);
  threads.emplace_back([] {  // the clock's ticker
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      g_clock.Advance(WallMs());
    }
  });
  threads.emplace_back([&] { RunCompactor(c, gen, plan); });                // child_windows.cc
  threads.emplace_back([&] { RunFeedReader(c, plan.seed ^ plan.cycle); });  // child_feed.cc
  for (int th = 0; th < plan.threads; ++th) {
    threads.emplace_back([&, th] {
      std::mt19937_64 rng(plan.seed * 1'000'003 + plan.cycle * 1'009 + static_cast<uint64_t>(th));
      for (uint64_t n = 0;; ++n) {
        g_gate.Enter();
        if (th == 0 && n % 50 == 49) (void)c->Checkpoint();
        const uint64_t id = ((plan.cycle + 1) << 32) | (static_cast<uint64_t>(th) << 24) | n;
        (void)ReadAndReport(c, gen.AnyKey(rng));
        const bool snapshot = rng() % 4 == 0;
        const int64_t snap_start = MonotonicUs();
        const Result<Snapshot> snap =
            snapshot ? c->GetSnapshot() : Result<Snapshot>(Status::NotFound("none taken"));
        CheckDerivedAfterSource(c, gen, rng);
        if (rng() % 16 == 0) ScanAndReport(c);
        Txn t = gen.Next(rng, id, [&](const std::string& key) -> std::optional<Entry> {
          Result<Entry> e = ReadAndReport(c, key);
          if (!e.ok()) return std::nullopt;
          return std::move(e).value();
        });
        CommitAndReport(c, &t, plan, rng);
        CheckSnapshot(snap, snap_start, gen, rng);
        // A load's fill ids: bit 23 set, the iteration's number above three bits of attempt.
        if (rng() % 8 == 0)
          LoadAndReport(c, gen, plan, rng, (id & ~0xFFFFFFull) | 1ull << 23 | (n & 0xFFFFF) << 3);
        g_gate.Leave();
      }
    });
  }
  for (std::thread& t : threads) t.join();  // never: the child dies first
  ::_exit(0);
}

}  // namespace walcache::checker
