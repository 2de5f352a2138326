// Limits before allocation: a reader that is about to allocate memory for a size a file
// declares (an HDF5 dataset's shape, an idx header, a JSON file's length) checks the size
// here first, so a hostile or damaged header gets an error that names the file, the object
// and the size instead of std::bad_alloc (docs/reliability.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

// The most bytes one read may allocate: set_read_limit_bytes() if called with n > 0, else the
// environment variable DFB_MAX_READ_BYTES (a number of bytes), else this machine's physical
// memory.
int64_t read_limit_bytes();
// n > 0 sets the limit for this process (the CLI's --max-read-bytes); 0 restores the default.
void set_read_limit_bytes(int64_t n);

// dims[0] * dims[1] * ... * element_bytes, or -1 when a dimension is negative or the product
// does not fit in int64.
int64_t checked_bytes(const std::vector<int64_t>& dims, int64_t element_bytes);

// Throws dfb::Error when `bytes` (from checked_bytes: -1 = overflow) is more than
// read_limit_bytes(): "<what> declares <shape>: <size>, more than the read limit <limit>
// (this machine's memory; raise it with --max-read-bytes or DFB_MAX_READ_BYTES)".
// `what` names the file and the object, e.g. "runs/a.h5: dataset 'frames'".
void check_read_size(const std::string& what, const std::string& shape_text, int64_t bytes);

// "1.5 GB", "12 MB", "800 bytes": sizes in messages.
std::string byte_size_text(int64_t bytes);

}  // namespace dfb
