// Behaviour kept: each tests/golden/<case>.txt names a `dfbench reproduce` command (its
// "args:" line, run on one thread) and the content hashes of what it wrote when recorded:
// every HDF5 file (data, checkpoints, rollouts, encoder), the curves, the report's tables,
// plots and strips, and the JSON outputs with what legitimately changes between runs
// (timings, versions, git hash, clock) left out. The same command must give the same bytes.
// Floating-point results depend on the CPU's kernels (oneDNN picks them by CPU and shape)
// and on the LibTorch version, so the hashes are compared only on the machine kind they were
// recorded on; elsewhere the test is skipped and says how to record them there, with the
// binary of the commit to compare against:
//   DFB_GOLDEN_WRITE=<case> [DFB_GOLDEN_CLI=path/to/dfbench] build/dfbench_tests --gtest_filter='Golden*'
// Each record names the machine kind it was made on (its "machine:" line); elsewhere the test skips.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tensor/compat.h"
#include "base/files.h"
#include "base/hash.h"
#include "tests/cli_runner.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

// The absolute run folder is part of the resolved config (the data files' paths), so it is fixed.
constexpr const char* kRun = "/tmp/dfbench_golden_";  // + the case

std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "?";
}

// The instruction sets oneDNN and LibTorch choose kernels by (one CPU model may show different
// ones under different hypervisors: AMX, for one).
std::string kernel_isa() {
  std::istringstream flags(" " + cpuinfo_field("flags") + " ");
  std::vector<std::string> have;
  for (std::string f; flags >> f;)
    for (const char* k : {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8"})
      if (f == k) have.push_back(f);
  std::sort(have.begin(), have.end());
  std::string out;
  for (const std::string& f : have) out += (out.empty() ? "" : " ") + f;
  return out.empty() ? "none" : out;
}

// What the floating-point results depend on besides the code.
std::string machine_kind() {
  return cpuinfo_field("vendor_id") + " family " + cpuinfo_field("cpu family") + " model " + cpuinfo_field("model") +
         " (" + kernel_isa() + "), LibTorch " + torch_version_string();
}

// Drops the keys whose values change from run to run (recursively).
void drop_volatile(nlohmann::json& j) {
  if (j.is_object()) {
    for (const char* k : {"environment", "seconds", "steps_per_second", "written_at", "train_seconds", "validation_seconds"})
      j.erase(k);
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
  } else if (ext == ".md" || ext == ".tex") {  // the training table's wall times: "0s", "9m41s", "1h02m"
    text = std::regex_replace(bytes, std::regex(R"(\b\d+(h\d\dm|m\d\ds|s)\b)"), "<time>");
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

std::vector<std::string> golden_cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(std::string(DFB_SOURCE_DIR) + "/tests/golden"))
    if (e.path().extension() == ".txt") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, ReproduceGivesTheRecordedBytes) {
  const std::string name = GetParam();
  const std::string golden = std::string(DFB_SOURCE_DIR) + "/tests/golden/" + name + ".txt";
  const char* write_env = std::getenv("DFB_GOLDEN_WRITE");
  const bool write = write_env && (std::string(write_env) == name || std::string(write_env) == "all");
  std::string recorded_kind, args;
  std::vector<std::string> header;
  std::map<std::string, std::string> recorded;
  {
    std::ifstream in(golden);
    ASSERT_TRUE(in) << "cannot read " << golden;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      if (line[0] == '#') {
        header.push_back(line);
      } else if (line.rfind("args: ", 0) == 0) {
        args = line.substr(6);
      } else if (line.rfind("machine: ", 0) == 0) {
        recorded_kind = line.substr(9);
      } else {
        const size_t sp = line.find(' ');
        recorded[line.substr(sp + 1)] = line.substr(0, sp);
      }
    }
  }
  ASSERT_FALSE(args.empty()) << golden << " has no args: line";
  if (!write && recorded_kind != machine_kind())
    GTEST_SKIP() << "hashes recorded on '" << recorded_kind << "', this machine is '" << machine_kind()
                 << "' (other kernels give other last bits); record them here with DFB_GOLDEN_WRITE=" << name;
  const std::string run = std::string(kRun) + name;
  fs::remove_all(run);
  const char* cli = std::getenv("DFB_GOLDEN_CLI");
  CliResult r;
  if (write && cli) {
    const std::string cmd = std::string(cli) + " --threads 1 " + args + " --out " + run + " > /dev/null 2>&1";
    r.code = std::system(cmd.c_str());
  } else {
    r = dfbench(args + " --out " + run);
  }
  ASSERT_EQ(r.code, 0) << r.err;
  const std::map<std::string, std::string> now = hashes_of(run);
  if (write) {
    std::string text;
    for (const std::string& h : header) text += h + "\n";
    text += "args: " + args + "\nmachine: " + machine_kind() + "\n";
    for (const auto& [rel, h] : now) text += h + " " + rel + "\n";
    write_file_atomic(golden, text);
    std::printf("wrote %s (%zu files)\n", golden.c_str(), now.size());
    fs::remove_all(run);
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
  fs::remove_all(run);
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace dfb
