// The pipe between a crash-test child and its parent: one text line a message, each written
// with a single write(2) of at most PIPE_BUF bytes, so a death never interleaves or half-writes
// one (a torn last line is dropped by the reader). Keys and values of the workload are ASCII
// without spaces.
//
//   S key update_id expires_at value nrel [rkey ruid]...  a recovered entry (the dump)
//   L last_seq recovery_us from_ms to_ms                end of the dump, whose Scan judged
//                                                       expiry at an instant in [from, to]
//   T id now_ms                                         the cache read its clock for txn id:
//                                                       its instant (sent before it returns)
//   W offset_ms                                         the child's clock now runs this far
//                                                       ahead of the system's (sent first)
//   F message                                           the child could not open or dump
//   I id ts_us sync nops op...                          a transaction about to be committed
//   A id ts_us update_id | C id ts_us | N id ts_us      acknowledged | conflict | invalid
//   X id ts_us                                          failed (an I/O error)
//   R key ts_us update_id value [via]                   a read that began at ts_us saw key
//                                                       (via: which call read it, if said)
//   G key ts_us update_id value                         the change feed, read at ts_us, showed
//                                                       a put of key in txn update_id
//   V message                                           a reader saw what must never be seen
//   K name                                              the kill point that is about to fire
//
// Thread-safety: pure functions; Send is safe from many threads on one fd.
#ifndef WALCACHE_CHECKER_PROTOCOL_H_
#define WALCACHE_CHECKER_PROTOCOL_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checker/model.h"

namespace walcache::checker {

struct Message {
  char type = 0;
  Txn txn;                                    // I
  uint64_t id = 0;                            // A C X T
  int64_t ts_us = 0;                          // A C X R G
  uint64_t update_id = 0;                     // A R G; L: last_seq
  uint64_t recovery_us = 0;                   // L
  uint64_t scan_from_ms = 0, scan_to_ms = 0;  // L
  uint64_t now_ms = 0;                        // T; W: the offset
  std::string key;                            // S R G
  std::string via;                            // R: which call read it ("" if not said)
  ModelEntry entry;                           // S; R G: its value
  std::string text;                           // F K V
};

std::string EncodeIntent(const Txn& t);
std::string EncodeEntry(const std::string& key, const ModelEntry& e);
// `via` names the call that read (one word, e.g. "scan"; "" for a plain Get).
std::string EncodeRead(const std::string& key, int64_t ts_us, uint64_t update_id,
                       const std::string& value, std::string_view via = "");
std::string EncodeFeedRead(const std::string& key, int64_t ts_us, uint64_t update_id,
                           const std::string& value);

// The workload writes values "v<txn id>" with at most one trailing letter, so a value names the
// transaction that wrote it; nullopt for anything else.
std::optional<uint64_t> TxnOfValue(std::string_view value);
// Parses one line (without its newline); empty if malformed.
std::optional<Message> Decode(std::string_view line);

// Writes `line` and a newline with one write(2); lines over PIPE_BUF are refused (false).
bool Send(int fd, std::string line);

// Reads everything `fd` delivers until its writer closes it (or a read fails), into *out;
// false if `within` passes first (what came so far is in *out).
bool ReadUntilClosed(int fd, std::chrono::milliseconds within, std::string* out);

}  // namespace walcache::checker

#endif  // WALCACHE_CHECKER_PROTOCOL_H_
