// Byte coding (see coding.h). Thread-safe.
#include "util/coding.h"

namespace walcache {

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, 4);
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, 8);
}

bool GetFixed32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeFixed32(in->data());
  in->remove_prefix(4);
  return true;
}

bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeFixed64(in->data());
  in->remove_prefix(8);
  return true;
}

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kMaxVarint64Bytes];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

namespace {

// Parses a varint of at most `max_bytes` whose value must fit in `bits` bits.
bool GetVarint(std::string_view* in, uint64_t* v, size_t max_bytes, int bits) {
  uint64_t result = 0;
  for (size_t i = 0; i < max_bytes && i < in->size(); ++i) {
    const uint64_t byte = static_cast<uint8_t>((*in)[i]);
    const int shift = static_cast<int>(7 * i);
    const uint64_t chunk = byte & 0x7f;
    // The last permitted byte may only carry the bits that still fit.
    if (shift + 7 > bits && (chunk >> (bits - shift)) != 0) return false;
    result |= chunk << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint64_t wide = 0;
  if (!GetVarint(in, &wide, kMaxVarint32Bytes, 32)) return false;
  *v = static_cast<uint32_t>(wide);
  return true;
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  return GetVarint(in, v, kMaxVarint64Bytes, 64);
}

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s.data(), s.size());
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  std::string_view probe = *in;
  uint32_t len = 0;
  if (!GetVarint32(&probe, &len) || probe.size() < len) return false;
  *s = probe.substr(0, len);
  probe.remove_prefix(len);
  *in = probe;
  return true;
}

}  // namespace walcache
