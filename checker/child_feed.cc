// The crash-test child's change-feed reader (child_internal.h): a registered consumer that
// follows the feed across deaths and tells the parent what it read, so that the parent checks
// the feed like the other readers (docs/checker.md, "The change feed").
//
// Thread-safety: RunFeedReader runs on one thread of its own; it shares only the cache (thread-
// safe) and the pipe (Send is atomic per line) with the others.
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "checker/child_internal.h"
#include "checker/protocol.h"
#include "walcache/change_feed.h"

namespace walcache::checker {
namespace {

constexpr char kConsumer[] = "checker";

// The position the consumer registered before the last death; the first child registers at what
// the directory holds (durable: the open synced what it recovered).
uint64_t StartPosition(Cache* c) {
  for (const auto& [name, position] : c->FeedConsumers()) {
    if (name == kConsumer) return position;
  }
  const uint64_t now = c->Stats().last_seq;
  (void)c->SetFeedPosition(kConsumer, now);  // if it fails, the next move registers it
  return now;
}

}  // namespace

void RunFeedReader(Cache* c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  uint64_t from = StartPosition(c);
  const uint64_t registered = from;
  uint64_t history = 0;
  auto last_move = std::chrono::steady_clock::now();
  bool told = false;  // one 'V' for the feed is enough
  while (true) {
    const int64_t start = MonotonicUs();
    Result<ChangeBatch> b = c->Changes(from, 64, history);
    if (!b.ok()) {
      if (b.status().IsCorruption() && !told) {
        told = true;
        ChildSend("V the change feed after update_id " + std::to_string(from) +
                  " failed: " + b.status().ToString());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a failed cache: wait
      continue;
    }
    if (b->gap) {
      // The consumer is registered at or before `from` since the death (or it was never
      // registered and `from` is what the directory held): retention promised the WAL after it.
      if (!told) {
        told = true;
        ChildSend("V the change feed reports a gap after update_id " + std::to_string(from) +
                  " (newest visible " + std::to_string(b->visible) + ", oldest it can serve " +
                  std::to_string(b->oldest_from) + "), where consumer '" + kConsumer +
                  "' was registered at " + std::to_string(registered) +
                  " and kept its position since");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    history = b->history;
    for (size_t i = 0; i < b->txns.size(); ++i) {
      const ChangeTxn& t = b->txns[i];
      if (t.update_id != from + 1 + i && !told) {
        told = true;
        ChildSend("V the change feed after update_id " + std::to_string(from) + " returned " +
                  std::to_string(t.update_id) + " at index " + std::to_string(i) +
                  ": a hole or a reorder");
      }
      // Each put names its transaction by its value: a read, at the updateId the feed gave it,
      // that the parent holds to the stronger rule of the feed (durable, never taken back).
      for (const Change& ch : t.changes) {
        if (ch.kind == Change::Kind::kPut && TxnOfValue(ch.value).has_value()) {
          ChildSend(EncodeFeedRead(ch.key, start, t.update_id, ch.value));
        }
      }
    }
    from = b->next_from;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_move > std::chrono::milliseconds(30)) {
      (void)c->SetFeedPosition(kConsumer, from);  // a failure keeps the older position: safe
      last_move = now;
    }
    // About as often as the flusher syncs (child.cc: 20 ms), so that buffered commits still
    // reach a power loss unsynced now and then.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
  }
}

}  // namespace walcache::checker
