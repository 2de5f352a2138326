// dfbench evaluate | encoder train: the metrics of any rollout file, and the encoder
// that the fd_self Fréchet distance uses.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "base/error.h"
#include "base/progress.h"
#include "formats/dataset_file.h"
#include "metrics/evaluate.h"
#include "pipeline/file_check.h"

namespace dfb::cli {

void add_evaluate(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "evaluate", "Quality over the frame index and drift summaries with bootstrap intervals, for rollout files");
  struct Args {
    EvaluateOptions o;
    std::string out;
    int64_t seed = 0;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--samples", a->o.samples, "rollout files (docs/formats.md); their methods are evaluated together")
      ->required();
  sub->add_option("--real", a->o.real, "dataset file of real clips for the Frechet distances and histograms "
                                       "(default: the truth frames of the rollout files)");
  sub->add_option("--encoder", a->o.encoder, "encoder file for fd_self (dfbench encoder train)");
  sub->add_option("--out", a->out, "folder for metrics.json and curves.csv")->required();
  sub->add_option("--metrics", a->o.metrics, "only these metrics, e.g. ssim,fd_random (default: all the inputs allow)")
      ->delimiter(',');
  sub->add_option("--bootstrap", a->o.bootstrap.resamples, "bootstrap resamples for the 95% intervals")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "seed of the bootstrap and of the random encoder")->capture_default_str();
  sub->add_option("--fd-window", a->o.fd_window, "frames per window of fd_*_w (0 = none)")->capture_default_str();
  sub->add_option("--t-train", a->o.t_train, "training length that sets the windows (default: the file's t_train)");
  on_run(sub, [a] {
    a->o.bootstrap.seed = static_cast<uint64_t>(a->seed);
    a->o.random_seed = static_cast<uint64_t>(a->seed);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, FileKind>> inputs = {{a->o.real, FileKind::kDataset},
                                                            {a->o.encoder, FileKind::kEncoder}};
    for (const std::string& s : a->o.samples) inputs.emplace_back(s, FileKind::kRollout);
    check_inputs(inputs);
    const Evaluation ev = evaluate_rollouts(a->o);
    write_evaluation(ev, a->out);
    std::printf("%s", format_evaluation(ev).c_str());
    std::printf("wrote %s/metrics.json and %s/curves.csv in %s\n", a->out.c_str(), a->out.c_str(),
                format_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()).c_str());
  });
}

void add_encoder(CLI::App& app) {
  CLI::App* group = app.add_subcommand("encoder", "The frame encoder of the fd_self Frechet distance");
  group->require_subcommand(1);
  CLI::App* sub = group->add_subcommand("train", "Train the encoder (an autoencoder's bottleneck) on a dataset file");
  struct Args {
    std::string data, out;
    EncoderTrainOptions o;
    int64_t seed = 0;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--data", a->data, "dataset file of training clips (dfbench data make / import)")->required();
  sub->add_option("--out", a->out, "encoder file to write (HDF5)")->required();
  sub->add_option("--steps", a->o.steps, "training steps")->capture_default_str();
  sub->add_option("--batch", a->o.batch, "frames per step")->capture_default_str();
  sub->add_option("--dim", a->o.net.dim, "features per frame (a Frechet distance needs dim + 1 rollouts)")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "seed of the weights and batches")->capture_default_str();
  on_run(sub, [a] {
    a->o.seed = static_cast<uint64_t>(a->seed);
    check_inputs({{a->data, FileKind::kDataset}});
    const Clips clips = read_dataset_file(a->data);
    if (!clips.split.empty() && clips.split != "train")
      std::fprintf(stderr, "note: %s is the '%s' split; the encoder should see training data only\n", a->data.c_str(),
                   clips.split.c_str());
    const FrameEncoder e = train_encoder(clips, a->data, a->o);
    e.save(a->out);
    std::printf("wrote %s: %s, %lld features, reconstruction MSE %.5f, hash %s\n", a->out.c_str(),
                e.info().name.c_str(), static_cast<long long>(e.info().options.dim), e.info().final_loss,
                e.info().hash.c_str());
  });
}

}  // namespace dfb::cli
