// Small status files of "name value" lines (one field a line; the value runs to the end of the
// line), replaced atomically: DIR/LAST_RECOVERY and DIR/CHECKPOINT_FAILED (docs/storage-format.md).
// Readers skip names they do not know, so newer writers may add fields.
//
// Thread-safety: plain functions; the caller serializes writers of one file.
#ifndef WALCACHE_UTIL_FIELDS_FILE_H_
#define WALCACHE_UTIL_FIELDS_FILE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/file_system.h"

namespace walcache {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Replaces `path` with `fields` (temp file, fsync, rename, fsync of the directory). Newlines in
// values become spaces.
Status WriteFieldsFile(FileSystem* fs, const std::string& path, const Fields& fields);

// The fields of `path` in file order. NotFound if missing; Corruption if over 64 KiB.
Result<Fields> ReadFieldsFile(FileSystem* fs, const std::string& path);

// Parses a whole decimal value into `out`; Corruption naming `path` and the line if malformed.
Status ParseField(const std::string& path, const std::pair<std::string, std::string>& field,
                  uint64_t* out);

}  // namespace walcache

#endif  // WALCACHE_UTIL_FIELDS_FILE_H_
