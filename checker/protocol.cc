// The crash-test pipe protocol (see protocol.h).
#include "checker/protocol.h"

#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

namespace walcache::checker {

std::string EncodeIntent(const Txn& t) {
  std::string s = "I " + std::to_string(t.id) + " " + std::to_string(t.ts_us) + " " +
                  (t.sync ? "1" : "0") + " " + std::to_string(t.ops.size());
  for (const TxnOp& op : t.ops) {
    s += std::string(" ") + static_cast<char>(op.kind) + " " + op.key;
    switch (op.kind) {
      case TxnOp::kPut:
        s += " " + op.value + " " + std::to_string(op.ttl_ms) + " " +
             std::to_string(op.related.size());
        for (const RelatedKey& r : op.related) s += " " + r.key + " " + std::to_string(r.update_id);
        break;
      case TxnOp::kTouch:
        s += " " + std::to_string(op.ttl_ms);
        break;
      case TxnOp::kExpect:
        s += " " + std::to_string(op.update_id);
        break;
      default:
        break;
    }
  }
  return s;
}

std::string EncodeEntry(const std::string& key, const ModelEntry& e) {
  std::string s = "S " + key + " " + std::to_string(e.update_id) + " " +
                  std::to_string(e.expires_at) + " " + e.value + " " +
                  std::to_string(e.related.size());
  for (const RelatedKey& r : e.related) s += " " + r.key + " " + std::to_string(r.update_id);
  return s;
}

std::string EncodeRead(const std::string& key, int64_t ts_us, uint64_t update_id,
                       const std::string& value, std::string_view via) {
  std::string line =
      "R " + key + " " + std::to_string(ts_us) + " " + std::to_string(update_id) + " " + value;
  if (!via.empty()) line += " " + std::string(via);
  return line;
}

std::string EncodeFeedRead(const std::string& key, int64_t ts_us, uint64_t update_id,
                           const std::string& value) {
  return "G" + EncodeRead(key, ts_us, update_id, value).substr(1);
}

std::optional<uint64_t> TxnOfValue(std::string_view value) {
  if (value.size() < 2 || value[0] != 'v') return std::nullopt;
  value.remove_prefix(1);
  if (value.back() >= 'a' && value.back() <= 'z') value.remove_suffix(1);
  if (value.empty() || value.size() > 20) return std::nullopt;
  uint64_t id = 0;
  for (char ch : value) {
    if (ch < '0' || ch > '9') return std::nullopt;
    const uint64_t next = id * 10 + static_cast<uint64_t>(ch - '0');
    if (next / 10 != id) return std::nullopt;  // overflow
    id = next;
  }
  return id;
}

std::optional<Message> Decode(std::string_view line) {
  std::istringstream in{std::string(line)};
  Message m;
  std::string type;
  if (!(in >> type) || type.size() != 1) return std::nullopt;
  m.type = type[0];
  auto related = [&](std::vector<RelatedKey>* out) {
    size_t n = 0;
    if (!(in >> n) || n > 1024) return false;
    for (size_t i = 0; i < n; ++i) {
      RelatedKey r;
      if (!(in >> r.key >> r.update_id)) return false;
      out->push_back(std::move(r));
    }
    return true;
  };
  switch (m.type) {
    case 'S': {
      if (!(in >> m.key >> m.entry.update_id >> m.entry.expires_at >> m.entry.value)) {
        return std::nullopt;
      }
      if (!related(&m.entry.related)) return std::nullopt;
      return m;
    }
    case 'L':
      if (!(in >> m.update_id >> m.recovery_us >> m.scan_from_ms >> m.scan_to_ms)) {
        return std::nullopt;
      }
      return m;
    case 'T':
      if (!(in >> m.id >> m.now_ms)) return std::nullopt;
      return m;
    case 'W':
      if (!(in >> m.now_ms)) return std::nullopt;
      return m;
    case 'F':
    case 'K':
    case 'V':
      std::getline(in >> std::ws, m.text);
      return m;
    case 'A':
      if (!(in >> m.id >> m.ts_us >> m.update_id)) return std::nullopt;
      return m;
    case 'C':
    case 'N':
    case 'X':
      if (!(in >> m.id >> m.ts_us)) return std::nullopt;
      return m;
    case 'R':
    case 'G':
      if (!(in >> m.key >> m.ts_us >> m.update_id >> m.entry.value)) return std::nullopt;
      m.entry.update_id = m.update_id;
      if (!(in >> m.via)) m.via.clear();  // optional
      return m;
    case 'I': {
      int sync = 0;
      size_t n = 0;
      if (!(in >> m.txn.id >> m.txn.ts_us >> sync >> n) || n > 1024) return std::nullopt;
      m.txn.sync = sync != 0;
      for (size_t i = 0; i < n; ++i) {
        TxnOp op;
        std::string kind;
        if (!(in >> kind >> op.key) || kind.size() != 1) return std::nullopt;
        op.kind = static_cast<TxnOp::Kind>(kind[0]);
        switch (op.kind) {
          case TxnOp::kPut:
            if (!(in >> op.value >> op.ttl_ms) || !related(&op.related)) return std::nullopt;
            break;
          case TxnOp::kTouch:
            if (!(in >> op.ttl_ms)) return std::nullopt;
            break;
          case TxnOp::kExpect:
            if (!(in >> op.update_id)) return std::nullopt;
            break;
          case TxnOp::kDelete:
          case TxnOp::kInvalidate:
          case TxnOp::kExpectAbsent:
            break;
          default:
            return std::nullopt;
        }
        m.txn.ops.push_back(std::move(op));
      }
      return m;
    }
    default:
      return std::nullopt;
  }
}

bool Send(int fd, std::string line) {
  line.push_back('\n');
  if (line.size() > PIPE_BUF) return false;
  ssize_t n;
  do {
    n = ::write(fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(line.size());
}

bool ReadUntilClosed(int fd, std::chrono::milliseconds within, std::string* out) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  char buf[1 << 16];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready <= 0) continue;  // EINTR or the second's tick: look at the deadline again
    const ssize_t got = ::read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;  // closed (or an error: what came is all there is)
    out->append(buf, static_cast<size_t>(got));
  }
}

}  // namespace walcache::checker
