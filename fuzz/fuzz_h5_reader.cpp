// The HDF5 reader every format goes through (formats/h5.h), walked the way checkpoints
// (tensor/checkpoint.cpp) and encoder files (metrics/encoder.cpp) walk it: every group and
// dataset, its shape and type, the data where the size check allows, and the attributes those
// readers ask for. (Their LibTorch side only copies what this returns.)
#include <vector>

#include "formats/h5.h"
#include "fuzz/fuzz_common.h"

namespace {

void walk(const dfb::h5::Reader& r, const std::string& group, int depth) {
  using namespace dfb;
  if (depth > 8) return;
  for (const char* key : {"format", "schema_version", "step", "seed", "config", "info", "hash", "fnv1a64", "checksums"}) {
    if (!r.has_attr(group, key)) continue;
    try {
      r.attr_string(group, key);
    } catch (const Error&) {
      r.attr_int(group, key);
      r.attr_double(group, key);
    }
  }
  for (const std::string& child : r.list(group)) {
    const std::string name = group == "/" ? child : group + "/" + child;
    if (!r.is_dataset(name)) {
      walk(r, name, depth + 1);
      continue;
    }
    r.shape(name);
    const h5::DType type = r.dtype(name);
    r.check_fits(name, h5::DType::kF32);
    if (type == h5::DType::kU8) r.read_u8(name);
    else r.read_f32(name);
    if (r.has_attr(name, "fnv1a64")) r.attr_string(name, "fnv1a64");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const std::string path = fuzz::write_input(data, size, "file.h5");
  fuzz::expect_only_errors([&] {
    h5::Reader r(path);
    walk(r, "/", 0);
  });
  return 0;
}
