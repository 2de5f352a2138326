// The report's data reader (reports/report_data.h), as `dfbench report --runs DIR` reads a run
// folder someone shared: the input is metrics.json, then (after a "\n---\n" line) curves.csv.
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_common.h"
#include "reports/report_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const auto [metrics, curves] = fuzz::split_input(data, size);
  const std::string dir = fuzz::scratch_dir("run");
  const auto put = [&](const std::string& name, const std::string& text) {
    FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
    if (!f) std::abort();
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  };
  put("metrics.json", metrics);
  put("curves.csv", curves);
  fuzz::expect_only_errors([&] { read_report_data({dir}); });
  return 0;
}
