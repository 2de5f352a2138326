// The arithmetic a model runs in (docs/design.md §9): fp32, or bf16 autocast (matrix
// products and convolutions in bfloat16, normalizations, the loss and every update in
// fp32; master weights, optimizer state and EMA always fp32).
#pragma once
#include <string>

namespace dfb {

enum class Precision { kFp32, kBf16 };

inline const char* precision_name(Precision p) { return p == Precision::kBf16 ? "bf16" : "fp32"; }
// "fp32" or "bf16"; false for anything else.
inline bool parse_precision(const std::string& name, Precision& out) {
  if (name == "fp32") out = Precision::kFp32;
  else if (name == "bf16") out = Precision::kBf16;
  else return false;
  return true;
}

}  // namespace dfb
