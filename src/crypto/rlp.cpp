#include "crypto/rlp.hpp"

#include <string>

namespace enclaver::crypto {
namespace {

// Appends the header of an item whose payload is `length` bytes; `base` is
// 0x80 for strings and 0xc0 for lists.
void put_header(Bytes& out, std::size_t length, std::uint8_t base) {
  if (length < 56) {
    out.push_back(static_cast<std::uint8_t>(base + length));
    return;
  }
  std::uint8_t be[sizeof(std::size_t)];
  std::size_t n = 0;
  for (std::size_t v = length; v != 0; v >>= 8) be[n++] = static_cast<std::uint8_t>(v);
  out.push_back(static_cast<std::uint8_t>(base + 55 + n));
  while (n > 0) out.push_back(be[--n]);
}

void encode_into(Bytes& out, const RlpItem& item) {
  if (!item.is_list) {
    const Bytes e = rlp_encode_bytes(item.bytes);
    out.insert(out.end(), e.begin(), e.end());
    return;
  }
  Bytes payload;
  for (const RlpItem& child : item.items) encode_into(payload, child);
  put_header(out, payload.size(), 0xc0);
  out.insert(out.end(), payload.begin(), payload.end());
}

Error fail(std::size_t offset, const std::string& what) {
  return make_error("offset " + std::to_string(offset) + ": " + what);
}

// Decodes one item starting at `pos` (an offset into `in`), within
// in[pos, end). On success `pos` is just past the item.
Result<RlpItem> decode_item(std::span<const std::uint8_t> in, std::size_t& pos, std::size_t end, std::size_t depth) {
  const std::size_t start = pos;
  if (pos >= end) return fail(pos, "expected an item, the input ends");
  const std::uint8_t head = in[pos++];
  RlpItem item;
  if (head < 0x80) {
    item.bytes.push_back(head);
    return item;
  }
  const bool is_list = head >= 0xc0;
  const std::uint8_t base = is_list ? 0xc0 : 0x80;
  const std::size_t short_max = base + 55u;
  std::size_t length = 0;
  if (head <= short_max) {
    length = head - base;
  } else {
    const std::size_t size_bytes = head - short_max;  // 1..8
    if (size_bytes > end - pos) return fail(start, "the length of length runs past the end of the input");
    if (in[pos] == 0) return fail(start, "long-form length with a leading zero byte");
    for (std::size_t i = 0; i < size_bytes; ++i) {
      // 8 bytes cannot overflow 64 bits; the bound check below refuses what
      // does not fit anyway.
      length = (length << 8) | in[pos++];
    }
    if (length < 56) return fail(start, "long-form length for a payload of " + std::to_string(length) + " bytes (below 56 must use the short form)");
  }
  if (length > end - pos)
    return fail(start, std::string(is_list ? "list" : "string") + " of " + std::to_string(length) + " bytes runs past the end (" +
                           std::to_string(end - pos) + " bytes left)");
  const std::size_t payload_end = pos + length;
  item.is_list = is_list;
  if (!is_list) {
    if (length == 1 && in[pos] < 0x80) return fail(start, "single byte below 0x80 wrapped as a string (must be encoded as itself)");
    item.bytes.assign(in.begin() + static_cast<std::ptrdiff_t>(pos), in.begin() + static_cast<std::ptrdiff_t>(payload_end));
    pos = payload_end;
    return item;
  }
  if (depth >= kRlpMaxDepth) return fail(start, "lists nested deeper than " + std::to_string(kRlpMaxDepth));
  while (pos < payload_end) {
    auto child = decode_item(in, pos, payload_end, depth + 1);
    if (!child) return child.error();
    item.items.push_back(std::move(child).value());
  }
  return item;
}

}  // namespace

Bytes rlp_encode_bytes(std::span<const std::uint8_t> bytes) {
  Bytes out;
  if (bytes.size() == 1 && bytes[0] < 0x80) {
    out.push_back(bytes[0]);
    return out;
  }
  out.reserve(bytes.size() + 9);
  put_header(out, bytes.size(), 0x80);
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

Bytes rlp_encode_list(std::span<const Bytes> encoded_items) {
  std::size_t total = 0;
  for (const Bytes& e : encoded_items) total += e.size();
  Bytes out;
  out.reserve(total + 9);
  put_header(out, total, 0xc0);
  for (const Bytes& e : encoded_items) out.insert(out.end(), e.begin(), e.end());
  return out;
}

Bytes rlp_encode(const RlpItem& item) {
  Bytes out;
  encode_into(out, item);
  return out;
}

Result<RlpItem> rlp_decode(std::span<const std::uint8_t> input) {
  std::size_t pos = 0;
  auto item = decode_item(input, pos, input.size(), 0);
  if (!item) return item;
  if (pos != input.size()) return fail(pos, std::to_string(input.size() - pos) + " trailing bytes after the item");
  return item;
}

}  // namespace enclaver::crypto
