// Dataset files (formats/dataset_file.h), read whole as evaluation does and streamed clip by
// clip as training does (formats/clip_stream.h).
#include <vector>

#include "formats/clip_stream.h"
#include "formats/dataset_file.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const std::string path = fuzz::write_input(data, size, "clips.h5");
  fuzz::expect_only_errors([&] { read_dataset_file(path); });
  fuzz::expect_only_errors([&] {
    std::unique_ptr<ClipSource> clips = open_clip_file(path);
    if (clips->count < 1 || clips->length < 1) return;
    std::vector<uint8_t> frame(static_cast<size_t>(clips->frame_bytes()));
    clips->read(clips->count - 1, clips->length - 1, 1, frame.data());
  });
  return 0;
}
