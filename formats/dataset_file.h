// The HDF5 dataset file (docs/design.md §5, docs/formats.md):
//   /frames  uint8 [N, L, H, W, C], chunked one clip per chunk, deflate-compressed
//   /states  float32 [N, L, K, 6]   true object states, where known
//   /colors  uint8 [N, K, 3]        object colours, where known
//   /visible uint8 [N, L, K]        1 where an object is in view, 0 where hidden (memory data), optional
//   attributes on "/": schema_version (int, = kDatasetSchemaVersion), source, split, fps, generator (JSON text)
#pragma once
#include <functional>
#include <string>

#include "formats/h5.h"
#include "formats/clips.h"

namespace dfb {

constexpr int64_t kDatasetSchemaVersion = 1;

// Atomic: written to a temporary file and renamed. `extra` may add datasets and attributes
// of its own (e.g. an import's per-clip provenance) before the file is committed.
void write_dataset_file(const std::string& path, const Clips& clips,
                        const std::function<void(h5::Writer&)>& extra = {});

// The layout of a uint8 [N, L, H, W, C] frames dataset (C = 1 or 3) as a Clips without
// pixels; throws dfb::Error naming the file and the dataset when it is wrong.
Clips frames_layout(const h5::Reader& r, const std::string& name);

// Validates the layout and throws dfb::Error naming the file and the problem
// (missing /frames, wrong rank or dtype, states that do not match frames,
// unknown schema version, ...).
Clips read_dataset_file(const std::string& path);

}  // namespace dfb
