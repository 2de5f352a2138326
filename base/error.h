// dfb::Error: the one exception type library code throws for bad input or state.
// main() catches it, prints its message on one line and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace dfb {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace dfb
