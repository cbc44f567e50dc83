// Shared pieces of the admin subcommands (see admin_util.h).
#include "tools/admin_util.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "util/file_system.h"
#include "wal/segment.h"

namespace walcache::tools {

int CannotRun(std::string_view cmd, std::string_view message, bool json) {
  if (json) {
    Json j = Json::object();
    j["error"] = message;
    j["command"] = cmd;
    j["exit"] = static_cast<uint64_t>(kExitCannotRun);
    std::cout << JsonText(j) << std::endl;
  }
  std::cerr << "walcache " << cmd << ": " << message << std::endl;
  return kExitCannotRun;
}

int CannotRun(std::string_view cmd, const Status& s, bool json) {
  std::string m(s.message());
  if (s.sys_errno() != 0) m += ": " + std::string(std::strerror(s.sys_errno()));
  return CannotRun(cmd, m, json);
}

Options WritingOptions(const std::string& dir, bool create) {
  Options o;
  o.create_if_missing = create;
  FileSystem* fs = FileSystem::Posix();
  Result<std::vector<wal::SegmentFile>> segments = wal::ListSegments(fs, JoinPath(dir, "wal"));
  uint64_t largest = 0;
  if (segments.ok()) {
    for (const wal::SegmentFile& f : *segments) {
      Result<std::unique_ptr<ReadableFile>> r = fs->OpenReadable(f.path);
      if (!r.ok()) continue;
      Result<uint64_t> size = (*r)->Size();
      if (size.ok()) largest = std::max(largest, *size);
    }
  }
  // Below 4 KiB it is a segment cut short (a repair's truncation), not a size it was made with.
  if (largest >= 4096) o.wal_segment_size = largest;
  return o;
}

bool Printable(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, continuation bytes 10xxxxxx, no overlong
    // form, no surrogate, nothing above U+10FFFF, and no C1 control (U+0080..U+009F).
    const size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4 || i + n > s.size()) return false;
    uint32_t cp = c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string Show(std::string_view s, bool* hex) {
  *hex = !Printable(s);
  if (!*hex) return std::string(s);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Json EntryJson(std::string_view key, const Entry& e) {
  Json j = Json::object();
  bool hex = false;
  const std::string k = Show(key, &hex);
  j["key"] = k;
  if (hex) j["key_hex"] = true;
  const std::string v = Show(e.value, &hex);
  j["value"] = v;
  if (hex) j["value_hex"] = true;
  j["update_id"] = e.update_id;
  j["expires_at"] = e.expires_at;
  Json related = Json::array();
  for (const RelatedKey& r : e.related) {
    Json rj = Json::object();
    bool rhex = false;
    rj["key"] = Show(r.key, &rhex);
    if (rhex) rj["key_hex"] = true;
    rj["update_id"] = r.update_id;
    related.push_back(rj);
  }
  j["related"] = related;
  return j;
}

std::string EntryLine(std::string_view key, const Entry& e) {
  bool hex = false;
  std::string line = Show(key, &hex);
  if (hex) line = "0x" + line;
  const std::string v = Show(e.value, &hex);
  line += " = " + (hex ? "0x" + v : v) + "  (update_id " + std::to_string(e.update_id);
  if (e.expires_at != 0) line += ", expires_at " + std::to_string(e.expires_at) + " ms";
  if (!e.related.empty()) {
    line += ", related ";
    for (size_t i = 0; i < e.related.size(); ++i) {
      if (i > 0) line += ",";
      line += Show(e.related[i].key, &hex) + "@" + std::to_string(e.related[i].update_id);
    }
  }
  return line + ")";
}

namespace {

const char* OpName(Change::Kind k) {
  switch (k) {
    case Change::Kind::kPut:
      return "put";
    case Change::Kind::kDelete:
      return "delete";
    case Change::Kind::kInvalidate:
      return "invalidate";
    case Change::Kind::kTouch:
      return "touch";
  }
  return "unknown";
}

// A put as the Entry it writes (the transaction's updateId is its own).
Entry PutEntry(uint64_t update_id, const Change& c) {
  return Entry{c.value, update_id, c.expires_at, c.related};
}

}  // namespace

Json ChangeTxnJson(const ChangeTxn& txn) {
  Json changes = Json::array();
  for (const Change& c : txn.changes) {
    Json j = Json::object();
    j["op"] = OpName(c.kind);
    if (c.kind == Change::Kind::kPut) {
      const Json entry = EntryJson(c.key, PutEntry(txn.update_id, c));
      for (const auto& [name, v] : entry.items()) {
        if (name != "update_id") j[name] = v;
      }
    } else {
      bool hex = false;
      j["key"] = Show(c.key, &hex);
      if (hex) j["key_hex"] = true;
      if (c.kind == Change::Kind::kTouch) j["expires_at"] = c.expires_at;
    }
    changes.push_back(j);
  }
  Json t = Json::object();
  t["update_id"] = txn.update_id;
  t["changes"] = changes;
  return t;
}

std::string ChangeTxnLine(const ChangeTxn& txn) {
  std::string line = std::to_string(txn.update_id) + ":";
  for (size_t i = 0; i < txn.changes.size(); ++i) {
    const Change& c = txn.changes[i];
    line += std::string(i > 0 ? ";" : "") + " " + OpName(c.kind) + " ";
    if (c.kind == Change::Kind::kPut) {
      line += EntryLine(c.key, PutEntry(txn.update_id, c));
      continue;
    }
    bool hex = false;
    const std::string k = Show(c.key, &hex);
    line += hex ? "0x" + k : k;
    if (c.kind == Change::Kind::kTouch) {
      line += c.expires_at == 0 ? " (no expiry)"
                                : " (expires_at " + std::to_string(c.expires_at) + " ms)";
    }
  }
  return line;
}

}  // namespace walcache::tools
