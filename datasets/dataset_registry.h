// Procedural datasets register here by name (docs/design.md §8); file-based data goes
// through the HDF5 dataset file instead (formats/dataset_file.h).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "formats/clips.h"

namespace dfb {

class JsonReader;

struct DatasetFactory {
  static constexpr const char* kKind = "dataset";
  // Reads the dataset's options strictly from `options` (and finishes it), then makes
  // `count` clips of `length` frames from `seed`, of `split` ("train" or "eval": datasets
  // drawn from a fixed collection take their items from its matching part). With errors
  // in the options it reports them through the reader and returns empty Clips.
  std::function<Clips(JsonReader& options, int64_t count, int64_t length, uint64_t seed, const std::string& split)> make;
};

}  // namespace dfb
