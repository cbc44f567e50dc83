// Shared pieces of the admin subcommands (inspect, get, scan, put, del, wal dump, verify, repair,
// compact): exit codes, one-line errors, and how keys, values and entries are shown.
// Thread-safety: plain functions.
#ifndef WALCACHE_TOOLS_ADMIN_UTIL_H_
#define WALCACHE_TOOLS_ADMIN_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/json.h"
#include "walcache/change_feed.h"
#include "walcache/options.h"
#include "walcache/status.h"
#include "walcache/types.h"

namespace walcache::tools {

// Exit codes of every subcommand; a usage error (CLI11's parse errors) is kExitCannotRun too.
constexpr int kExitOk = 0;
constexpr int kExitProblem = 1;    // the command ran and found something wrong
constexpr int kExitCannotRun = 2;  // missing or foreign directory, I/O error, refused

// Prints "walcache CMD: MESSAGE" on stderr, and with `json` also {"error": MESSAGE} on stdout
// (a script reading --json output always gets one document); returns kExitCannotRun.
int CannotRun(std::string_view cmd, const Status& s, bool json = false);
int CannotRun(std::string_view cmd, std::string_view message, bool json = false);

// The Options of a writing command's open (put, del, compact): an existing cache only unless
// `create`, and WAL segments of the size the directory's segments already have (each is
// preallocated to the size it was created with; the largest one tells), so that a command with
// default options does not switch a cache made with small segments to 64 MiB ones.
Options WritingOptions(const std::string& dir, bool create);

// True iff `s` is valid UTF-8 without control characters: printable ASCII (space included) and
// printable non-ASCII characters.
bool Printable(std::string_view s);
// `s` as text when printable, else lowercase hex; *hex says which.
std::string Show(std::string_view s, bool* hex);

// {"key", "key_hex"?, "value", "value_hex"?, "update_id", "expires_at", "related": [...]}.
Json EntryJson(std::string_view key, const Entry& e);
// One transaction of the change feed (docs/change-feed.md): {"update_id", "changes": [{"op":
// "put"|"delete"|"invalidate"|"touch", "key", "key_hex"?, and for put "value", "value_hex"?,
// "expires_at", "related"; for touch "expires_at"}]}; and as one line of text.
Json ChangeTxnJson(const ChangeTxn& txn);
std::string ChangeTxnLine(const ChangeTxn& txn);
// One line: KEY = VALUE  (update_id U, expires_at T ms, related A@1,B@2); T is in ms since the
// Unix epoch.
std::string EntryLine(std::string_view key, const Entry& e);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_ADMIN_UTIL_H_
