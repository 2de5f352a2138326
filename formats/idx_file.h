// The idx format of (Fashion-)MNIST, plain or gzip-compressed: a 4-byte magic (0, 0, type,
// number of dimensions), the dimensions as big-endian uint32, then the data. Only unsigned
// bytes (type 0x08) are read, which is what the image and label files hold. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

struct IdxArray {
  std::vector<int64_t> dims;   // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> data;   // row-major, product(dims) bytes
  int64_t count() const { return dims.empty() ? 0 : dims[0]; }
  int64_t item_bytes() const;  // product of dims[1..]
};

// Reads the whole file (gzip detected by its magic bytes). Throws dfb::Error naming the
// file: missing, not idx, another element type, or shorter than its header says.
IdxArray read_idx(const std::string& path);

}  // namespace dfb
