// Content hashes: FNV-1a 64 over bytes, and the keys of reproduce's stages (the hash of
// the JSON a stage's output depends on; a stage whose key changed is done again).
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dfb {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
// FNV-1a 64 of `bytes` bytes, continuing from `h` (kFnvOffset to start).
uint64_t fnv1a(uint64_t h, const void* data, size_t bytes);
// "fnv1a64:<16 hex digits>"
std::string fnv1a_text(uint64_t h);
// fnv1a_text of `bytes` bytes: the checksum attribute ("fnv1a64") of checkpoint tensors and of a
// dataset file's frames.
std::string checksum_text(const void* data, size_t bytes);
// Throws dfb::Error "<what> fails its checksum (stored S, read R): the file is damaged" when
// `stored` is not checksum_text of the bytes read.
void check_checksum(const std::string& what, const std::string& stored, const void* data, size_t bytes);
// The key of a stage whose output depends on `inputs`: fnv1a_text of its compact dump
// (nlohmann keeps object keys sorted, so equal JSON gives equal keys).
std::string stage_key(const nlohmann::json& inputs);

}  // namespace dfb
