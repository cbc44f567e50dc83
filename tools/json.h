// A minimal JSON writer for the CLI's --json output: objects (keys in insertion order) and
// arrays, strings escaped per RFC 8259. Not thread-safe (a plain value).
#ifndef WALCACHE_TOOLS_JSON_H_
#define WALCACHE_TOOLS_JSON_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace walcache::tools {

// Appends `s` as a JSON string literal.
inline void AppendJsonString(std::string* out, std::string_view s) {
  *out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value) {
    Key(key);
    Quote(value);
    return *this;
  }
  JsonObject& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  JsonObject& Add(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonObject& Add(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  JsonObject& Add(std::string_view key, uint64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  JsonObject& Add(std::string_view key, int value) { return Add(key, static_cast<int64_t>(value)); }
  JsonObject& Add(std::string_view key, double value) {
    Key(key);
    if (!std::isfinite(value)) {
      out_ += "null";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.6g", value);
      out_ += buf;
    }
    return *this;
  }

  // `json` must be one valid JSON value (a nested object or array's str()).
  JsonObject& AddRaw(std::string_view key, std::string_view json) {
    Key(key);
    out_ += json;
    return *this;
  }

  std::string str() const { return "{" + out_ + "}"; }

 private:
  void Key(std::string_view key) {
    if (!out_.empty()) out_ += ", ";
    Quote(key);
    out_ += ": ";
  }
  void Quote(std::string_view s) { AppendJsonString(&out_, s); }

  std::string out_;
};

// An array of JSON values, each given as its own valid JSON text.
class JsonArray {
 public:
  JsonArray& AddRaw(std::string_view json) {
    if (!out_.empty()) out_ += ", ";
    out_ += json;
    return *this;
  }
  JsonArray& Add(const JsonObject& o) { return AddRaw(o.str()); }
  JsonArray& AddString(std::string_view s) {
    if (!out_.empty()) out_ += ", ";
    AppendJsonString(&out_, s);
    return *this;
  }
  std::string str() const { return "[" + out_ + "]"; }

 private:
  std::string out_;
};

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_JSON_H_
