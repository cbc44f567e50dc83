// PrometheusText (see util/prometheus_text.h). Not thread-safe (one builder per thread).
#include "util/prometheus_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace walcache {
namespace {

// A sample value or a bound: integers exactly, others in the shortest form that reads back.
std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    for (int digits = 1; digits < 17; ++digits) {  // the shortest that round-trips
      char shorter[32];
      std::snprintf(shorter, sizeof(shorter), "%.*g", digits, v);
      if (std::strtod(shorter, nullptr) == v) {
        std::snprintf(buf, sizeof(buf), "%s", shorter);
        break;
      }
    }
  }
  return buf;
}

// HELP text escapes \ and newline; label values also ".
void AppendEscaped(std::string* out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && quote) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

void AppendLabels(std::string* out, const PrometheusText::Labels& labels, std::string_view le) {
  if (labels.empty() && le.empty()) return;
  *out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) *out += ',';
    first = false;
    *out += k;
    *out += "=\"";
    AppendEscaped(out, v, true);
    *out += '"';
  }
  if (!le.empty()) {
    if (!first) *out += ',';
    *out += "le=\"";
    *out += le;
    *out += '"';
  }
  *out += '}';
}

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  AppendEscaped(&out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  AppendLabels(&out_, labels, "");
  out_ += ' ';
  out_ += Number(value);
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  out_ += name;
  AppendLabels(&out_, labels, "");
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::HistogramSamples(std::string_view name, const Labels& labels,
                                      const Histogram& h, double scale) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    const std::string le =
        i < h.upper_bounds.size() ? Number(static_cast<double>(h.upper_bounds[i]) * scale) : "+Inf";
    out_ += bucket;
    AppendLabels(&out_, labels, le);
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  if (h.counts.empty()) {  // no buckets at all: still the +Inf one the format requires
    out_ += bucket;
    AppendLabels(&out_, labels, "+Inf");
    out_ += " 0\n";
  }
  Sample(std::string(name) + "_sum", labels, static_cast<double>(h.sum) * scale);
  // _count is the +Inf bucket, by the format's rule and by construction.
  Sample(std::string(name) + "_count", labels, cumulative);
}

void PrometheusText::Counter(std::string_view name, std::string_view help, uint64_t value) {
  Family(name, "counter", help);
  Sample(name, {}, value);
}

void PrometheusText::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, "gauge", help);
  Sample(name, {}, value);
}

}  // namespace walcache
