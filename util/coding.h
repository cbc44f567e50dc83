// Byte coding: little-endian fixed-width integers and LEB128 varints, appended to a std::string
// and parsed from a std::string_view that is advanced past what was read. Every Get* returns
// false, leaving the input unchanged, when the bytes that remain cannot hold the value; so a
// decoder built on them never reads past its input and never trusts a length it has not checked.
//
// Thread-safety: pure functions.
#ifndef WALCACHE_UTIL_CODING_H_
#define WALCACHE_UTIL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace walcache {

constexpr size_t kMaxVarint32Bytes = 5;
constexpr size_t kMaxVarint64Bytes = 10;

// Stores `v` at `dst` (4 / 8 bytes, little-endian).
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
// Reads 4 / 8 little-endian bytes at `src`.
inline uint32_t DecodeFixed32(const char* src) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(src[i])) << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(src[i])) << (8 * i);
  return v;
}

// Appends `v` as 4 / 8 little-endian bytes.
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
// Parses 4 / 8 little-endian bytes.
bool GetFixed32(std::string_view* in, uint32_t* v);
bool GetFixed64(std::string_view* in, uint64_t* v);

// Appends `v` as a varint (7 bits a byte, low first).
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// Parses a varint; false when truncated or longer than the type allows (overlong encodings that
// would overflow are rejected, so every accepted value fits its type).
bool GetVarint32(std::string_view* in, uint32_t* v);
bool GetVarint64(std::string_view* in, uint64_t* v);
// Bytes PutVarint64 would append for `v`.
size_t VarintLength(uint64_t v);

// Appends varint32 length + bytes. REQUIRES: s.size() < 2^32.
void PutLengthPrefixed(std::string* dst, std::string_view s);
// Parses varint32 length + bytes; false unless all `length` bytes remain. `*s` views `*in`.
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

}  // namespace walcache

#endif  // WALCACHE_UTIL_CODING_H_
