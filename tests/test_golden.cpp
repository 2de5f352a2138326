// Behaviour kept: `dfbench reproduce --preset tiny` (one thread) gives the same bytes as
// when tests/golden/tiny.txt was recorded: every HDF5 file (data, checkpoints, rollouts,
// encoder), the curves, the report's tables, plots and strips, and the JSON outputs with
// what legitimately changes between runs (timings, versions, git hash, clock) left out.
// Floating-point results depend on the CPU's kernels (oneDNN picks them by CPU and shape)
// and on the LibTorch version, so the hashes are compared only on the machine kind they were
// recorded on; elsewhere the test is skipped and says how to record them there:
//   DFB_GOLDEN_WRITE=1 build/dfbench_tests --gtest_filter=Golden.*
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tensor/compat.h"
#include "base/files.h"
#include "base/hash.h"
#include "tests/cli_runner.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

// The absolute run folder is part of the resolved config (the data files' paths), so it is fixed.
constexpr const char* kRun = "/tmp/dfbench_golden_tiny";

std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "?";
}

// What the floating-point results depend on besides the code.
std::string machine_kind() {
  return cpuinfo_field("vendor_id") + " family " + cpuinfo_field("cpu family") + " model " + cpuinfo_field("model") +
         ", LibTorch " + torch_version_string();
}

// Drops the keys whose values change from run to run (recursively).
void drop_volatile(nlohmann::json& j) {
  if (j.is_object()) {
    for (const char* k : {"environment", "seconds", "steps_per_second", "written_at"}) j.erase(k);
    for (auto& [k, v] : j.items()) drop_volatile(v);
  } else if (j.is_array()) {
    for (auto& v : j) drop_volatile(v);
  }
}

std::string content_hash(const fs::path& p) {
  const std::string bytes = read_file(p.string());
  const std::string ext = p.extension().string();
  std::string text = bytes;
  if (ext == ".json") {
    nlohmann::json j = nlohmann::json::parse(bytes);
    drop_volatile(j);
    text = j.dump();
  } else if (ext == ".jsonl") {
    text.clear();
    std::istringstream in(bytes);
    for (std::string line; std::getline(in, line);) {
      nlohmann::json j = nlohmann::json::parse(line);
      drop_volatile(j);
      text += j.dump() + "\n";
    }
  }
  return fnv1a_text(fnv1a(kFnvOffset, text.data(), text.size()));
}

// Every output whose bytes are kept (index.html and the WebM video carry encoder metadata
// that changes per run; env.json and the lock file are the run's circumstances).
bool kept(const std::string& rel) {
  if (rel == "report/index.html" || rel == "report/video.webm" || rel == ".reproduce.lock") return false;
  return rel.find("env.json") == std::string::npos && rel.find("reproduce.log") == std::string::npos;
}

std::map<std::string, std::string> hashes_of(const std::string& run) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), run).string();
    if (kept(rel)) out[rel] = content_hash(e.path());
  }
  return out;
}

TEST(Golden, TinyReproduceGivesTheRecordedBytes) {
  const std::string golden = std::string(DFB_SOURCE_DIR) + "/tests/golden/tiny.txt";
  const bool write = std::getenv("DFB_GOLDEN_WRITE") != nullptr;
  std::string recorded_kind;
  std::map<std::string, std::string> recorded;
  if (!write) {
    std::ifstream in(golden);
    ASSERT_TRUE(in) << "no " << golden << "; record it with DFB_GOLDEN_WRITE=1";
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      if (line.rfind("machine: ", 0) == 0) {
        recorded_kind = line.substr(9);
        continue;
      }
      const size_t sp = line.find(' ');
      recorded[line.substr(sp + 1)] = line.substr(0, sp);
    }
    if (recorded_kind != machine_kind())
      GTEST_SKIP() << "hashes recorded on '" << recorded_kind << "', this machine is '" << machine_kind()
                   << "' (other kernels give other last bits); record them here with DFB_GOLDEN_WRITE=1";
  }
  fs::remove_all(kRun);
  const CliResult r = dfbench(std::string("reproduce --preset tiny --out ") + kRun);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::map<std::string, std::string> now = hashes_of(kRun);
  if (write) {
    std::string text = "# dfbench --threads 1 reproduce --preset tiny: content hashes (tests/test_golden.cpp)\n";
    text += "machine: " + machine_kind() + "\n";
    for (const auto& [rel, h] : now) text += h + " " + rel + "\n";
    write_file_atomic(golden, text);
    std::printf("wrote %s (%zu files)\n", golden.c_str(), now.size());
    return;
  }
  for (const auto& [rel, h] : recorded) {
    auto it = now.find(rel);
    if (it == now.end()) {
      ADD_FAILURE() << rel << " is no longer written";
      continue;
    }
    EXPECT_EQ(it->second, h) << rel << " changed";
  }
  for (const auto& [rel, h] : now) EXPECT_TRUE(recorded.count(rel)) << rel << " is new (not in " << golden << ")";
  fs::remove_all(kRun);
}

}  // namespace
}  // namespace dfb
