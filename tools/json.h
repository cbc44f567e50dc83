// SPDX-License-Identifier: Apache-2.0
// JSON for the CLI's --json output: nlohmann::ordered_json (Debian's nlohmann-json3-dev), so an
// object's members print in the order they were set, and the one way the commands print a
// document. Thread-safety: a Json is a plain value.
#ifndef WALCACHE_TOOLS_JSON_H_
#define WALCACHE_TOOLS_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

namespace walcache::tools {

using Json = nlohmann::ordered_json;

// `j` as one line of compact JSON (no spaces), strings escaped per RFC 8259. Bytes that are not
// valid UTF-8 (a message naming a file, say) print as U+FFFD rather than failing: keys and values
// are shown in hex first (admin_util.h, Show).
inline std::string JsonText(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_JSON_H_
