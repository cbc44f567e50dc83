// ReplaceFile: replaces a small file's contents atomically and durably — a reader, and a crash at
// any point, sees either the old contents or the new, never a mix or nothing (unless there was no
// old file).
//
// Thread-safety: a plain function; the caller serializes writers of one path.
#ifndef WALCACHE_UTIL_REPLACE_FILE_H_
#define WALCACHE_UTIL_REPLACE_FILE_H_

#include <string>
#include <string_view>

#include "util/file_system.h"

namespace walcache {

// Writes `data` to "<path>.tmp" (created afresh: one left by a crash is deleted first), syncs it,
// renames it over `path`, then syncs the directory. On error `path` holds its old contents or the
// new ones; "<path>.tmp" may be left behind.
Status ReplaceFile(FileSystem* fs, const std::string& path, std::string_view data);

}  // namespace walcache

#endif  // WALCACHE_UTIL_REPLACE_FILE_H_
