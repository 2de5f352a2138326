// The report's data reader (reports/report_data.h), as `dfbench report --runs DIR` reads a run
// folder someone shared: the input is metrics.json, then (after a "\n---\n" line) curves.csv.
#include "fuzz/fuzz_common.h"
#include "reports/report_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const auto [metrics, curves] = fuzz::split_input(data, size);
  const std::string dir = fuzz::scratch_dir("run");
  fuzz::write_file(dir + "/metrics.json", metrics.data(), metrics.size());
  fuzz::write_file(dir + "/curves.csv", curves.data(), curves.size());
  fuzz::expect_only_errors([&] { read_report_data({dir}); });
  return 0;
}
