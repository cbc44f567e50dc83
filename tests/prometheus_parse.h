// ParsePrometheusText: a strict reader of the Prometheus text exposition format 0.0.4, for the
// tests of Cache::MetricsText and `walcache inspect --metrics`. It checks what a scraper
// relies on: every line is a "# HELP", a "# TYPE" or a sample line with a valid name, labels and
// number; each family is declared (HELP and TYPE) once, before its samples, and its samples are
// contiguous; a histogram's series each have buckets with increasing le, cumulative counts,
// a last bucket le="+Inf", a _sum, and a _count equal to the +Inf bucket.
//
// Thread-safety: pure functions.
#ifndef WALCACHE_TESTS_PROMETHEUS_PARSE_H_
#define WALCACHE_TESTS_PROMETHEUS_PARSE_H_

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace walcache::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromText {
  std::map<std::string, std::string> types;  // family -> counter, gauge, histogram
  std::vector<PromSample> samples;
  std::string error;  // empty: the text is valid

  // The value of the sample `name` whose labels include `labels`; NaN if there is none.
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const {
    for (const PromSample& s : samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        match &= it != s.labels.end() && it->second == v;
      }
      if (match) return s.value;
    }
    return std::nan("");
  }
};

inline bool ValidMetricName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

inline bool ParseNumber(const std::string& s, double* v) {
  if (s == "+Inf") return *v = INFINITY, true;
  if (s == "-Inf") return *v = -INFINITY, true;
  if (s == "NaN") return *v = NAN, true;
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The family a sample belongs to: its name, or without _bucket/_sum/_count for a histogram.
inline std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& t) {
  if (t.count(name) != 0) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view sv(suffix);
    if (name.size() > sv.size() && name.ends_with(sv)) {
      const std::string base = name.substr(0, name.size() - sv.size());
      auto it = t.find(base);
      if (it != t.end() && it->second == "histogram") return base;
    }
  }
  return "";
}

inline PromText ParsePrometheusText(const std::string& text) {
  PromText out;
  auto fail = [&](size_t line_no, const std::string& line, const std::string& why) {
    out.error = "line " + std::to_string(line_no) + " (" + line + "): " + why;
    return out;
  };
  if (text.empty() || text.back() != '\n') return fail(0, "", "must end with a newline");
  std::set<std::string> helped, done;
  std::string current;  // the family whose samples are being read
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    const size_t eol = text.find('\n', pos);
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty()) return fail(line_no, line, "empty line");
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const std::string rest = line.substr(7);
      const size_t sp = rest.find(' ');
      const std::string name = rest.substr(0, sp);
      if (!ValidMetricName(name) || sp == std::string::npos) {
        return fail(line_no, line, "bad metric name");
      }
      if (done.count(name) != 0) return fail(line_no, line, "family declared twice");
      if (current != name) {
        if (!current.empty()) done.insert(current);
        current = name;
      }
      if (line[2] == 'H') {
        if (!helped.insert(name).second) return fail(line_no, line, "HELP twice");
      } else {
        const std::string type = rest.substr(sp + 1);
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          return fail(line_no, line, "unknown type");
        }
        if (out.types.count(name) != 0) return fail(line_no, line, "TYPE twice");
        out.types[name] = type;
      }
      continue;
    }
    if (line[0] == '#') return fail(line_no, line, "a comment that is neither HELP nor TYPE");
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!ValidMetricName(s.name)) return fail(line_no, line, "bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) return fail(line_no, line, "label without =");
        const std::string key = line.substr(i, eq - i);
        if (!ValidMetricName(key) || key.find(':') != std::string::npos) {
          return fail(line_no, line, "bad label name");
        }
        if (eq + 1 >= line.size() || line[eq + 1] != '"') return fail(line_no, line, "unquoted");
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (++j >= line.size()) return fail(line_no, line, "dangling escape");
            const char e = line[j];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return fail(line_no, line, "bad escape");
            }
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) return fail(line_no, line, "unterminated label value");
        if (!s.labels.emplace(key, value).second) return fail(line_no, line, "label twice");
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail(line_no, line, "unterminated labels");
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return fail(line_no, line, "no value");
    const std::string rest = line.substr(i + 1);
    const size_t sp = rest.find(' ');  // an optional timestamp follows
    if (!ParseNumber(rest.substr(0, sp), &s.value)) return fail(line_no, line, "bad value");
    const std::string family = FamilyOf(s.name, out.types);
    if (family.empty()) return fail(line_no, line, "sample of an undeclared family");
    if (family != current) return fail(line_no, line, "samples of a family are not together");
    if (helped.count(family) == 0) return fail(line_no, line, "family without HELP");
    out.samples.push_back(std::move(s));
  }
  // Histograms: per series (labels without le), cumulative buckets ending at +Inf; _count.
  for (const auto& [family, type] : out.types) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts, sums;
    for (const PromSample& s : out.samples) {
      std::map<std::string, std::string> series = s.labels;
      if (s.name == family + "_bucket") {
        auto le = series.find("le");
        double bound = 0;
        if (le == series.end() || !ParseNumber(le->second, &bound)) {
          out.error = family + ": a bucket without a numeric le";
          return out;
        }
        series.erase("le");
        buckets[series].emplace_back(bound, s.value);
      } else if (s.name == family + "_count") {
        counts[series] = s.value;
      } else if (s.name == family + "_sum") {
        sums[series] = s.value;
      }
    }
    if (buckets.empty()) {
      out.error = family + ": a histogram without buckets";
      return out;
    }
    for (const auto& [series, b] : buckets) {
      for (size_t k = 1; k < b.size(); ++k) {
        if (!(b[k].first > b[k - 1].first) || b[k].second < b[k - 1].second) {
          out.error = family + ": buckets not increasing in le, or not cumulative";
          return out;
        }
      }
      if (!std::isinf(b.back().first)) {
        out.error = family + ": the last bucket is not le=\"+Inf\"";
        return out;
      }
      if (counts.count(series) == 0 || sums.count(series) == 0) {
        out.error = family + ": a series without _count or _sum";
        return out;
      }
      if (counts.at(series) != b.back().second) {
        out.error = family + ": _count differs from the +Inf bucket";
        return out;
      }
    }
  }
  return out;
}

}  // namespace walcache::test

#endif  // WALCACHE_TESTS_PROMETHEUS_PARSE_H_
