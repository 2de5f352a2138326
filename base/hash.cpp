#include "base/hash.h"

#include <cstdio>

#include "base/error.h"

namespace dfb {

uint64_t fnv1a(uint64_t h, const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string fnv1a_text(uint64_t h) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("fnv1a64:") + hex;
}

std::string checksum_text(const void* data, size_t bytes) { return fnv1a_text(fnv1a(kFnvOffset, data, bytes)); }

void check_checksum(const std::string& what, const std::string& stored, const void* data, size_t bytes) {
  const std::string read = checksum_text(data, bytes);
  if (stored != read)
    throw Error(what + " fails its checksum (stored " + stored + ", read " + read + "): the file is damaged");
}

std::string stage_key(const nlohmann::json& inputs) {
  const std::string text = inputs.dump();
  return fnv1a_text(fnv1a(kFnvOffset, text.data(), text.size()));
}

}  // namespace dfb
