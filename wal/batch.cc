// Batch encoding and validated decoding (see batch.h). Thread-safe (no shared state).
#include "wal/batch.h"

#include "util/coding.h"

namespace walcache::wal {
namespace {

// Smallest encodings, used to bound counts by the bytes that remain.
constexpr size_t kMinOpBytes = 1 + 1;       // type, empty key
constexpr size_t kMinRelatedBytes = 1 + 1;  // empty key, update_id 0

Status Bad(std::string_view what, size_t op_index) {
  return Status::Corruption("batch op " + std::to_string(op_index) + ": " + std::string(what));
}

}  // namespace

void Batch::Put(std::string_view key, std::string_view value, uint64_t expires_at,
                std::vector<RelatedKey> related) {
  ops_.push_back(
      Op{OpType::kPut, std::string(key), std::string(value), expires_at, std::move(related)});
}

void Batch::Delete(std::string_view key) {
  ops_.push_back(Op{OpType::kDelete, std::string(key), {}, 0, {}});
}

void Batch::Invalidate(std::string_view key) {
  ops_.push_back(Op{OpType::kInvalidate, std::string(key), {}, 0, {}});
}

void Batch::Touch(std::string_view key, uint64_t expires_at) {
  ops_.push_back(Op{OpType::kTouch, std::string(key), {}, expires_at, {}});
}

void Batch::EncodeTo(std::string* dst) const {
  PutVarint32(dst, static_cast<uint32_t>(ops_.size()));
  for (const Op& op : ops_) {
    dst->push_back(static_cast<char>(op.type));
    PutLengthPrefixed(dst, op.key);
    switch (op.type) {
      case OpType::kPut:
        PutLengthPrefixed(dst, op.value);
        PutVarint64(dst, op.expires_at);
        PutVarint32(dst, static_cast<uint32_t>(op.related.size()));
        for (const RelatedKey& r : op.related) {
          PutLengthPrefixed(dst, r.key);
          PutVarint64(dst, r.update_id);
        }
        break;
      case OpType::kTouch:
        PutVarint64(dst, op.expires_at);
        break;
      case OpType::kDelete:
      case OpType::kInvalidate:
        break;
    }
  }
}

std::string Batch::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

Result<Batch> Batch::Decode(std::string_view in) {
  uint32_t count = 0;
  if (!GetVarint32(&in, &count)) return Status::Corruption("batch: bad op count");
  if (count > in.size() / kMinOpBytes) {
    return Status::Corruption("batch: op count " + std::to_string(count) + " exceeds the " +
                              std::to_string(in.size()) + " bytes that follow");
  }
  Batch b;
  b.ops_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (in.empty()) return Bad("truncated before type", i);
    const auto type = static_cast<OpType>(static_cast<uint8_t>(in[0]));
    in.remove_prefix(1);
    Op op;
    op.type = type;
    std::string_view key;
    if (!GetLengthPrefixed(&in, &key)) return Bad("bad key length", i);
    op.key.assign(key);
    switch (type) {
      case OpType::kPut: {
        std::string_view value;
        if (!GetLengthPrefixed(&in, &value)) return Bad("bad value length", i);
        op.value.assign(value);
        uint32_t related = 0;
        if (!GetVarint64(&in, &op.expires_at)) return Bad("bad expires_at", i);
        if (!GetVarint32(&in, &related)) return Bad("bad related count", i);
        if (related > in.size() / kMinRelatedBytes) return Bad("related count exceeds input", i);
        op.related.reserve(related);
        for (uint32_t k = 0; k < related; ++k) {
          RelatedKey r;
          std::string_view rkey;
          if (!GetLengthPrefixed(&in, &rkey)) return Bad("bad related key length", i);
          if (!GetVarint64(&in, &r.update_id)) return Bad("bad related update_id", i);
          r.key.assign(rkey);
          op.related.push_back(std::move(r));
        }
        break;
      }
      case OpType::kTouch:
        if (!GetVarint64(&in, &op.expires_at)) return Bad("bad expires_at", i);
        break;
      case OpType::kDelete:
      case OpType::kInvalidate:
        break;
      default:
        return Bad("unknown op type " + std::to_string(static_cast<int>(type)), i);
    }
    b.ops_.push_back(std::move(op));
  }
  if (!in.empty()) {
    return Status::Corruption("batch: " + std::to_string(in.size()) + " trailing bytes");
  }
  return b;
}

}  // namespace walcache::wal
