// dfbench data make DATASET --out FILE.h5: a procedural dataset written in the HDF5 dataset format.
// dfbench data import --videos PATH... --out FILE.h5: real videos cut into clips (FILE.h5 for
// training, FILE.eval.h5 for evaluation, split by video).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "formats/dataset_file.h"
#include "datasets/dataset_registry.h"
#include "datasets/video_import.h"

namespace dfb::cli {

void add_data_import(CLI::App* data);

void add_data(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Make or inspect dataset files");
  data->require_subcommand(1);
  add_data_import(data);
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
  make->add_option("--split", a->split, "train or eval: which items a dataset drawn from a collection uses; also written to the file")->capture_default_str();
  make->add_option("--set", a->sets, "dataset option: --set objects=3 (repeatable)");
  on_run(make, [a] {
    nlohmann::json options = nlohmann::json::object();
    if (a->size > 0) options["size"] = a->size;
    for (const std::string& s : a->sets) apply_override(options, s);
    ConfigErrors errors;
    JsonReader r(options, "", errors);
    Clips clips = Registry<DatasetFactory>::instance().get(a->dataset).factory.make(r, a->clips, a->length, a->seed, a->split);
    errors.throw_if_any(a->dataset + " options");
    clips.split = a->split;
    write_dataset_file(a->out, clips);
    std::printf("wrote %s: %lld clips x %lld frames of %lldx%lldx%lld (%s)\n", a->out.c_str(),
                static_cast<long long>(clips.count), static_cast<long long>(clips.length),
                static_cast<long long>(clips.height), static_cast<long long>(clips.width),
                static_cast<long long>(clips.channels), a->dataset.c_str());
  });
}


void add_data_import(CLI::App* data) {
  CLI::App* imp = data->add_subcommand(
      "import", "Decode videos (OpenCV) into clips: FILE.h5 for training, FILE.eval.h5 for evaluation, split by video");
  auto o = std::make_shared<VideoImportOptions>();
  imp->add_option("--videos", o->videos, "video files, or folders of them")->required();
  imp->add_option("--size", o->size, "frame side in pixels")->capture_default_str();
  imp->add_flag("--gray", o->gray, "one grey channel instead of RGB");
  imp->add_flag("!--no-crop", o->crop, "resize the whole frame instead of its centered square");
  imp->add_option("--clip", o->clip, "frames per clip")->capture_default_str()->check(CLI::PositiveNumber);
  imp->add_option("--stride", o->stride, "frames between the starts of consecutive clips (default: --clip)")
      ->check(CLI::NonNegativeNumber);
  imp->add_option("--skip", o->skip, "keep one decoded frame in F")->capture_default_str()->check(CLI::PositiveNumber);
  imp->add_option("--eval-share", o->eval_share, "share of the videos held out for evaluation (at least one of two)")
      ->capture_default_str();
  imp->add_option("--eval", o->eval_videos, "hold out exactly these videos instead");
  imp->add_option("--out", o->out, "training file FILE.h5 (evaluation clips go to FILE.eval.h5)")->required();
  on_run(imp, [o] { std::printf("%s", format_import(import_videos(*o)).c_str()); });
}

}  // namespace dfb::cli
