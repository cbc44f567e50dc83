// A minimal JSON reader for tests that check the CLI's --json output: objects (members kept in
// order), arrays, strings with every RFC 8259 escape (\uXXXX and surrogate pairs to UTF-8),
// numbers (kept as written, so 64-bit integers stay exact), true, false, null. Strict: anything
// else, or trailing text, is a parse error. Not thread-safe (a plain value).
#ifndef WALCACHE_TESTS_MINI_JSON_H_
#define WALCACHE_TESTS_MINI_JSON_H_

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace walcache::test {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  // The value `text` holds, or nullopt with *error saying where parsing stopped.
  static std::optional<Json> Parse(std::string_view text, std::string* error) {
    Parser p{text, 0, ""};
    Json v;
    if (!p.Value(&v, 0) || (p.Ws(), p.pos != text.size())) {
      if (p.error.empty()) p.error = "trailing text";
      *error = p.error + " at offset " + std::to_string(p.pos);
      return std::nullopt;
    }
    return v;
  }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool boolean() const { return type_ == Type::kBool && text_ == "true"; }
  // The number as an unsigned integer; UINT64_MAX if it is not one (negative, fraction, other).
  uint64_t u64() const {
    uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
    return type_ == Type::kNumber && ec == std::errc() && p == text_.data() + text_.size()
               ? v
               : UINT64_MAX;
  }
  double number() const { return type_ == Type::kNumber ? std::strtod(text_.c_str(), nullptr) : 0; }
  // A string's decoded value; a number's or a literal's text.
  const std::string& str() const { return text_; }
  const std::vector<Json>& array() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }
  size_t size() const { return type_ == Type::kArray ? items_.size() : members_.size(); }

  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // The member `key`, or null if absent (or if this is not an object).
  const Json& operator[](std::string_view key) const {
    const Json* v = Find(key);
    return v != nullptr ? *v : Null();
  }
  const Json& operator[](size_t i) const { return i < items_.size() ? items_[i] : Null(); }

 private:
  static const Json& Null() {
    static const Json* const null = new Json();
    return *null;
  }
  const Json* Find(std::string_view key) const {
    for (const auto& [k, v] : members_) {
      if (k == key) return &v;
    }
    return nullptr;
  }

  struct Parser {
    std::string_view in;
    size_t pos;
    std::string error;

    bool Fail(const char* what) {
      if (error.empty()) error = what;
      return false;
    }
    void Ws() {
      while (pos < in.size() &&
             (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\n' || in[pos] == '\r')) {
        ++pos;
      }
    }
    bool Eat(char c) {
      Ws();
      if (pos < in.size() && in[pos] == c) return ++pos, true;
      return false;
    }
    bool Literal(std::string_view word) {
      if (in.substr(pos, word.size()) != word) return Fail("bad literal");
      pos += word.size();
      return true;
    }
    bool Hex4(uint32_t* out) {
      if (pos + 4 > in.size()) return Fail("short \\u escape");
      const auto [p, ec] = std::from_chars(in.data() + pos, in.data() + pos + 4, *out, 16);
      if (ec != std::errc() || p != in.data() + pos + 4) return Fail("bad \\u escape");
      pos += 4;
      return true;
    }
    static void Utf8(uint32_t cp, std::string* out) {
      if (cp < 0x80) {
        out->push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      } else if (cp < 0x10000) {
        out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      } else {
        out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      }
    }
    bool String(std::string* out) {
      if (!Eat('"')) return Fail("expected a string");
      while (pos < in.size() && in[pos] != '"') {
        const unsigned char c = static_cast<unsigned char>(in[pos++]);
        if (c < 0x20) return Fail("control character in a string");
        if (c != '\\') {
          out->push_back(static_cast<char>(c));
          continue;
        }
        if (pos >= in.size()) break;
        const char e = in[pos++];
        static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
        if (const size_t i = kFrom.find(e); i != std::string_view::npos) {
          out->push_back(kTo[i]);
          continue;
        }
        if (e != 'u') return Fail("bad escape");
        uint32_t cp = 0, lo = 0;
        if (!Hex4(&cp)) return false;
        if (cp >= 0xd800 && cp < 0xdc00) {  // a high surrogate needs its low half
          if (in.substr(pos, 2) != "\\u") return Fail("lone surrogate");
          pos += 2;
          if (!Hex4(&lo) || lo < 0xdc00 || lo >= 0xe000) return Fail("bad surrogate pair");
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        Utf8(cp, out);
      }
      if (pos >= in.size()) return Fail("unterminated string");
      ++pos;
      return true;
    }
    bool Number(std::string* out) {
      const size_t start = pos;
      if (pos < in.size() && in[pos] == '-') ++pos;
      auto digits = [&] {
        const size_t d = pos;
        while (pos < in.size() && in[pos] >= '0' && in[pos] <= '9') ++pos;
        return pos > d;
      };
      if (!digits()) return Fail("bad number");
      if (in[start] == '0' || (in[start] == '-' && in[start + 1] == '0')) {
        if (pos - start > (in[start] == '-' ? 2u : 1u)) return Fail("leading zero");
      }
      if (pos < in.size() && in[pos] == '.' && (++pos, !digits())) return Fail("bad fraction");
      if (pos < in.size() && (in[pos] == 'e' || in[pos] == 'E')) {
        ++pos;
        if (pos < in.size() && (in[pos] == '+' || in[pos] == '-')) ++pos;
        if (!digits()) return Fail("bad exponent");
      }
      *out = std::string(in.substr(start, pos - start));
      return true;
    }
    bool Value(Json* v, int depth) {
      if (depth > 64) return Fail("nested too deeply");
      Ws();
      if (pos >= in.size()) return Fail("unexpected end");
      const char c = in[pos];
      if (c == '{') {
        v->type_ = Type::kObject;
        ++pos;
        if (Eat('}')) return true;
        do {
          std::pair<std::string, Json> m;
          if (!String(&m.first) || !Eat(':') || !Value(&m.second, depth + 1)) {
            return Fail("bad member");
          }
          v->members_.push_back(std::move(m));
        } while (Eat(','));
        return Eat('}') || Fail("expected , or }");
      }
      if (c == '[') {
        v->type_ = Type::kArray;
        ++pos;
        if (Eat(']')) return true;
        do {
          v->items_.emplace_back();
          if (!Value(&v->items_.back(), depth + 1)) return false;
        } while (Eat(','));
        return Eat(']') || Fail("expected , or ]");
      }
      if (c == '"') return v->type_ = Type::kString, String(&v->text_);
      if (c == 't' || c == 'f') {
        v->type_ = Type::kBool;
        v->text_ = c == 't' ? "true" : "false";
        return Literal(v->text_);
      }
      if (c == 'n') return Literal("null");
      v->type_ = Type::kNumber;
      return Number(&v->text_);
    }
  };

  Type type_ = Type::kNull;
  std::string text_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

}  // namespace walcache::test

#endif  // WALCACHE_TESTS_MINI_JSON_H_
