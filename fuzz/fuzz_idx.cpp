// The idx reader (formats/idx_file.h): Fashion-MNIST's files, gzip-compressed or plain.
#include "formats/idx_file.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const std::string path = fuzz::write_input(data, size, "images-idx3-ubyte.gz");
  fuzz::expect_only_errors([&] { read_idx(path); });
  return 0;
}
