// dfbench shapes --samples FILE: the shape-count check (the first oracle metric) of
// any rollout file whose truth carries object states (bouncing_shapes).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "base/error.h"
#include "base/files.h"
#include "pipeline/file_check.h"
#include "pipeline/sampler.h"
#include "metrics/shape_summary.h"

namespace dfb::cli {

void add_shapes(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "shapes", "Share of rollout frames with the right number of shapes, within T_train and at 2x, 4x, 8x");
  struct Args {
    std::string samples, json;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--samples", a->samples, "rollout file (dfbench sample, or docs/formats.md)")->required();
  sub->add_option("--json", a->json, "also write the shares as JSON to this file");
  on_run(sub, [a] {
    check_inputs({{a->samples, FileKind::kRollout}});
    const Rollouts r = read_rollout_file(a->samples);
    if (r.truth.objects == 0)
      throw Error(a->samples + ": /truth/states is missing, so the true shape count is unknown (bouncing_shapes only)");
    if (r.t_train < 1) throw Error(a->samples + ": the t_train attribute is missing; it sets the windows");
    const auto shares =
        shape_count_shares(r.generated, r.truth, static_cast<int>(r.truth.objects), r.context, r.t_train);
    std::printf("%s\n", format_table(r.method, shares).c_str());
    if (!a->json.empty()) write_file_atomic(a->json, to_json(shares).dump(2) + "\n");
  });
}

}  // namespace dfb::cli
