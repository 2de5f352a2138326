// dfbench data make DATASET --out FILE.h5: a procedural dataset written in the HDF5 dataset format.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "core/json_reader.h"
#include "core/registry.h"
#include "datasets/dataset_file.h"
#include "datasets/dataset_registry.h"

namespace dfb::cli {

void add_data(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Make or inspect dataset files");
  data->require_subcommand(1);
  CLI::App* make = data->add_subcommand("make", "Generate a procedural dataset into an HDF5 dataset file");
  struct Args {
    std::string dataset, out, split = "train";
    int64_t clips = 256, length = 32, size = 0;
    uint64_t seed = 1;
    std::vector<std::string> sets;
  };
  auto a = std::make_shared<Args>();
  make->add_option("dataset", a->dataset, "a registered dataset (see dfbench ls)")->required();
  make->add_option("--out", a->out, "output HDF5 file")->required();
  make->add_option("--clips", a->clips, "number of clips")->capture_default_str()->check(CLI::PositiveNumber);
  make->add_option("--length", a->length, "frames per clip")->capture_default_str()->check(CLI::PositiveNumber);
  make->add_option("--size", a->size, "frame size in pixels (default: the dataset's)");
  make->add_option("--seed", a->seed, "seed")->capture_default_str();
  make->add_option("--split", a->split, "split attribute written to the file")->capture_default_str();
  make->add_option("--set", a->sets, "dataset option: --set objects=3 (repeatable)");
  on_run(make, [a] {
    nlohmann::json options = nlohmann::json::object();
    if (a->size > 0) options["size"] = a->size;
    for (const std::string& s : a->sets) apply_override(options, s);
    ConfigErrors errors;
    JsonReader r(options, "", errors);
    Clips clips = Registry<DatasetFactory>::instance().get(a->dataset).factory.make(r, a->clips, a->length, a->seed);
    errors.throw_if_any(a->dataset + " options");
    clips.split = a->split;
    write_dataset_file(a->out, clips);
    std::printf("wrote %s: %lld clips x %lld frames of %lldx%lldx%lld (%s)\n", a->out.c_str(),
                static_cast<long long>(clips.count), static_cast<long long>(clips.length),
                static_cast<long long>(clips.height), static_cast<long long>(clips.width),
                static_cast<long long>(clips.channels), a->dataset.c_str());
  });
}

}  // namespace dfb::cli
