// The crash-test child's compactor and its windows (see child_internal.h, aimed_hold.h,
// pin_window.h): compactions all along, and the windows that open on purpose what a race opens
// for microseconds.
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "checker/aimed_hold.h"
#include "checker/child_internal.h"
#include "checker/pin_window.h"
#include "util/kill_point.h"

namespace walcache::checker {
namespace {

// The fill window (aimed_hold.h): a read of `key` held between its RocksDB read and its fill
// while the key is rewritten, checkpointed (so its new copy is clean) and pushed out of memory by
// reads of every other key; then a read that begins after the rewrite returned must see it. A
// fill that caches what it read before the eviction serves the old copy to that read.
void FillWindow(Cache* c, const Generator& gen, const ChildPlan& plan, uint64_t id,
                std::mt19937_64& rng) {
  const std::string key = gen.AnyKey(rng);
  AimedHold hold;
  hold.Arm(std::chrono::milliseconds(300));
  std::thread reader([&] {
    AimedHold::Target target(&hold, KillPoint::kEngineReadThrough);
    (void)ChildRead(c, key);
  });
  const bool held = hold.WaitHeld(std::chrono::milliseconds(300));
  if (held) {
    Txn t;
    t.id = id;
    t.ops.push_back(TxnOp{TxnOp::kPut, key, "v" + std::to_string(id) + "f", 0, 0, {}});
    ChildCommit(c, &t, plan, rng);
    (void)c->Checkpoint();
    for (const std::string& k : gen.AllKeys()) {
      if (k != key) (void)ChildRead(c, k);
    }
  }
  hold.Release();
  reader.join();
  if (held) (void)ChildRead(c, key);
}

// The rotation window (aimed_hold.h): the commit that ends up last in a full WAL segment is
// held at "engine.logged", not yet visible, while the next one opens a new segment; then a
// checkpoint pins just below it and deletes the segments it covers. The full segment holds a
// record that checkpoint does not cover: a deletion that counts one record too many takes it,
// and the next open finds the WAL starting past the checkpoint. The window's commits (puts of
// one independent key) go one at a time, each held until the next is logged; the caller keeps
// the workload out meanwhile, so that no other commit lands between them. `next_id` numbers
// them.
void RotationWindow(Cache* c, const ChildPlan& plan, uint64_t* next_id, std::mt19937_64& rng) {
  struct Held {
    AimedHold hold;
    std::thread thread;
  };
  auto start = [&] {
    auto h = std::make_unique<Held>();
    h->hold.Arm(std::chrono::milliseconds(1000));
    Txn t;
    t.id = (*next_id)++;
    t.ops.push_back(TxnOp{TxnOp::kPut, "m0", "v" + std::to_string(t.id) + "r", 0, 0, {}});
    h->thread =
        std::thread([c, &plan, hold = &h->hold, t, commit_rng = std::mt19937_64(rng())]() mutable {
          AimedHold::Target target(hold, KillPoint::kEngineLogged);
          ChildCommit(c, &t, plan, commit_rng);
        });
    (void)h->hold.WaitHeld(std::chrono::milliseconds(1000));
    return h;
  };
  auto finish = [](std::unique_ptr<Held>& h) {
    h->hold.Release();
    h->thread.join();
  };
  std::unique_ptr<Held> prev = start();
  for (int i = 0; i < 400; ++i) {
    ClearRotated();
    std::unique_ptr<Held> next = start();
    if (Rotated()) {  // `next` opened a segment: `prev` is the last record of the full one
      MarkRotationCheckpoint(true);
      (void)c->Checkpoint();  // pins just below `prev`, deletes what it covers
      MarkRotationCheckpoint(false);
      finish(prev);
      finish(next);
      return;
    }
    finish(prev);
    prev = std::move(next);
  }
  finish(prev);
}

}  // namespace

// Compactions all along: Compact() (a checkpoint, then RocksDB's full compaction with the
// expiry filter), beside the flushes and compactions RocksDB starts on its own. An eighth of
// the turns (all, when a death at a segment deletion is aimed at one) are rotation windows
// instead, with the workload at the gate. Of the rest, a quarter of
// the turns (none, when this child is to die right after a compaction) open the fill window
// instead. The other half of them (all, when this child is to die right after a compaction)
// open the pin window (pin_window.h): the stored copies first, then touches logged while the
// compaction's checkpoint is held at its pin, and time leaping past the copies' old expiries
// before the filter looks at them. In half of those the touches are in flight when the
// checkpoint pins — logged and held at "engine.logged" (aimed_hold.h) before time leaps, and
// let go inside the pin — so the checkpoint's expiry horizon must be their instant, not the
// clock's. A store that drops what a logged Touch still acts on loses it at the death
// (docs/design.md trap 4). When the death is to follow a compaction, the workload waits at the
// gate meanwhile, so that nothing rewrites or checkpoints the touched keys between the window
// and the death.
void RunCompactor(Cache* c, const Generator& gen, const ChildPlan& plan) {
  const int th = plan.threads;  // its transactions' ids, apart from the workload threads'
  const bool aimed = plan.kill_point == KillPointName(KillPoint::kCompactDone);
  std::mt19937_64 rng(plan.seed * 7'919 + plan.cycle);
  // The rotation windows' ids, apart from every other thread's.
  uint64_t window_id = ((plan.cycle + 1) << 32) | (static_cast<uint64_t>(th + 1) << 24);
  for (uint64_t n = 0;; ++n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 150));
    const uint64_t id = ((plan.cycle + 1) << 32) | (static_cast<uint64_t>(th) << 24) | n;
    if (AimRotation() || (!aimed && rng() % 8 == 0)) {
      GateClose();
      RotationWindow(c, plan, &window_id, rng);
      GateOpen();
      continue;
    }
    const uint64_t turn = rng() % 4;
    if (!aimed && turn == 0) {
      (void)c->Compact();
      continue;
    }
    if (!aimed && turn == 1) {
      FillWindow(c, gen, plan, id, rng);
      continue;
    }
    if (aimed) GateClose();
    (void)c->Checkpoint();
    // Read every key, so the touches can pick what is stored with an expiry now.
    std::map<std::string, Entry> seen;
    for (const std::string& k : gen.AllKeys()) {
      if (Result<Entry> e = ChildRead(c, k); e.ok()) seen.emplace(k, *e);
    }
    const uint64_t leap = 300 + rng() % 2000;
    const TouchAim aim{ChildClockNow(), leap};
    const auto touches = [&] {
      return gen.Touches(
          rng, id,
          [&](const std::string& k) -> std::optional<Entry> {
            auto it = seen.find(k);
            if (it == seen.end()) return std::nullopt;
            return it->second;
          },
          aim);
    };
    auto leap_now = [&] { ChildClockLeap(leap); };
    if (rng() % 2 == 0) {
      (void)PinWindow::CompactAround(c, [&] {
        Txn t = touches();
        ChildCommit(c, &t, plan, rng);  // synced or not as the plan's durability says
        leap_now();
      });
    } else {
      Txn t = touches();
      std::mt19937_64 commit_rng(rng());
      AimedHold hold;
      hold.Arm(std::chrono::milliseconds(300));
      std::thread committer([&] {
        AimedHold::Target target(&hold, KillPoint::kEngineLogged);
        ChildCommit(c, &t, plan, commit_rng);
      });
      (void)hold.WaitHeld(std::chrono::milliseconds(300));
      leap_now();  // the touches were sequenced before it; they are not yet visible
      bool joined = false;
      (void)PinWindow::CompactAround(c, [&] {
        hold.Release();
        committer.join();
        joined = true;
      });
      if (!joined) {
        hold.Release();
        committer.join();
      }
    }
    if (aimed) GateOpen();
  }
}

}  // namespace walcache::checker
