// Rollout files (formats/rollout_file.h), as `dfbench evaluate --samples` reads a file someone
// else made: opened and validated, every method's frames and one rollout of the truth read.
#include "formats/rollout_file.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const std::string path = fuzz::write_input(data, size, "rollouts.h5");
  fuzz::expect_only_errors([&] {
    const RolloutFile file = open_rollout_file(path);
    for (const std::string& m : file.methods) read_method_frames(file, m);
    read_one_rollout(file, "truth", 0);
  });
  fuzz::expect_only_errors([&] { read_rollout_file(path); });
  return 0;
}
