// SPDX-License-Identifier: Apache-2.0
// The change feed's value types: what Cache::Changes returns (docs/change-feed.md), and the
// stable binary encoding of one transaction's changes, for shipping them through a message log.
//
// A ChangeTxn is one committed transaction exactly as its WAL record holds it: every Put,
// Delete, Touch the caller asked for, and every Invalidate the engine computed at commit (the
// entries derived, transitively, from a key the transaction wrote, deleted or invalidated), in the
// order they apply.
//
// Thread-safety: plain values; the two functions are pure.
#ifndef WALCACHE_CHANGE_FEED_H_
#define WALCACHE_CHANGE_FEED_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "walcache/export.h"
#include "walcache/result.h"
#include "walcache/types.h"

namespace walcache {

// One effect of a transaction on one key. The numbers are those of the WAL format and of
// EncodeChangeTxn; they never change.
struct Change {
  enum class Kind : uint8_t {
    kPut = 1,         // key = value, with expires_at and related
    kDelete = 2,      // key removed: the transaction asked
    kInvalidate = 3,  // key removed: asked for, or derived from a key this transaction changed
    kTouch = 4,       // key's expiry set to expires_at
  };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;                // kPut only
  uint64_t expires_at = 0;          // kPut, kTouch: ms since the Unix epoch; 0 = never
  std::vector<RelatedKey> related;  // kPut only; update_id 0 = "written earlier in this txn"
  friend bool operator==(const Change&, const Change&) = default;
};

// One committed transaction: its updateId and its effects in the order they apply.
struct ChangeTxn {
  uint64_t update_id = 0;
  std::vector<Change> changes;
  friend bool operator==(const ChangeTxn&, const ChangeTxn&) = default;
};

// What Cache::Changes(from, max) returns.
struct ChangeBatch {
  // The transactions from + 1, from + 2, ... in updateId order, with no hole: txns[i].update_id
  // == from + 1 + i. Empty when nothing newer is visible yet, or on a gap.
  std::vector<ChangeTxn> txns;
  // Where to read on: pass it as `from` to the next call (the last txn's updateId, else `from`).
  uint64_t next_from = 0;
  // The newest visible updateId when the feed was read: next_from < visible means more is there.
  uint64_t visible = 0;
  // Resync: the transactions after `from` cannot be told. Either the WAL no longer holds
  // from + 1 (checkpoints deleted its segment: no retention kept it, or a repair cut it), or
  // `from` is beyond what this cache holds, or the caller's history id says that what it read up
  // to `from` was cut by `walcache repair` (the updateIds after the cut now name other
  // transactions). txns is empty. The consumer must drop what it
  // derived from the feed, rebuild it (docs/change-feed.md, "Resync") and read on from there.
  bool gap = false;
  // The id of the history the txns belong to (docs/change-feed.md, "History"): keep it with
  // next_from and pass both to the next call, which then reports a gap if history after that
  // position was cut and its updateIds given to other transactions. 0 only from a read-only cache
  // of a directory that has none recorded yet.
  uint64_t history = 0;
  // On a gap: the smallest `from` this cache can serve now (the WAL's first record's updateId
  // minus 1; for a `from` beyond the newest visible transaction, that one's updateId). Reading
  // from it skips transactions: only a resync makes that right.
  uint64_t oldest_from = 0;
};

// The stable encoding of one transaction (docs/change-feed.md, "Encoding"): varint64 update_id
// followed by the WAL's batch encoding of its changes (docs/wal-format.md, "Batch"). Self-
// delimiting only as a whole message: a message log's framing carries its length.
WALCACHE_EXPORT std::string EncodeChangeTxn(const ChangeTxn& txn);
// Its inverse. Corruption for bytes that are not exactly one encoded transaction.
WALCACHE_EXPORT Result<ChangeTxn> DecodeChangeTxn(std::string_view bytes);

}  // namespace walcache

#endif  // WALCACHE_CHANGE_FEED_H_
