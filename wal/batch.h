// Batch: the operations of one transaction, as logged in one WAL record. A batch is
// self-describing: it carries the invalidations the engine computed at commit time, so replaying
// it is a pure function of the log.
//
// Encoding (docs/wal-format.md#batch):
//   varint32 op count ‖ op*
//   op = type u8 ‖ key (varint32 length ‖ bytes) ‖ by type:
//     Put:        value (varint32 length ‖ bytes) ‖ varint64 expires_at ‖
//                 varint32 related count ‖ (key (varint32 length ‖ bytes) ‖ varint64 update_id)*
//     Delete:     nothing more
//     Invalidate: nothing more
//     Touch:      varint64 expires_at
//
// Thread-safety: a plain value; Decode is a pure function.
#ifndef WALCACHE_WAL_BATCH_H_
#define WALCACHE_WAL_BATCH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "walcache/result.h"
#include "walcache/types.h"

namespace walcache::wal {

enum class OpType : uint8_t {
  kPut = 1,         // set key = value, with expiry and the (source, update_id)s it derives from
  kDelete = 2,      // remove key: the user asked
  kInvalidate = 3,  // remove key: it was derived from something this transaction changed
  kTouch = 4,       // set key's expiry
};

using RelatedKey = walcache::RelatedKey;

struct Op {
  OpType type = OpType::kPut;
  std::string key;
  std::string value;                // kPut only
  uint64_t expires_at = 0;          // kPut, kTouch; 0 = never
  std::vector<RelatedKey> related;  // kPut only
  friend bool operator==(const Op&, const Op&) = default;
};

class Batch {
 public:
  void Put(std::string_view key, std::string_view value, uint64_t expires_at = 0,
           std::vector<RelatedKey> related = {});
  void Delete(std::string_view key);
  void Invalidate(std::string_view key);
  void Touch(std::string_view key, uint64_t expires_at);
  void Add(Op op) { ops_.push_back(std::move(op)); }

  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  void Clear() { ops_.clear(); }

  // Appends the encoding to `dst` / returns it.
  void EncodeTo(std::string* dst) const;
  std::string Encode() const;

  // Parses an encoding. Every count and length is checked against the bytes that remain before
  // anything is reserved or copied; trailing bytes and unknown op types are Corruption.
  static Result<Batch> Decode(std::string_view data);

  friend bool operator==(const Batch&, const Batch&) = default;

 private:
  std::vector<Op> ops_;
};

}  // namespace walcache::wal

#endif  // WALCACHE_WAL_BATCH_H_
