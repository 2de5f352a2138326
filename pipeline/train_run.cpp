#include "pipeline/train_run.h"

#include <torch/torch.h>

#include <filesystem>

#include "base/error.h"
#include "base/json_reader.h"
#include "pipeline/run_parts.h"
#include "pipeline/validation.h"
#include "tensor/compat.h"
#include "train/distributed.h"

namespace dfb {
namespace fs = std::filesystem;

TrainSummary train_run(const RunConfig& config, const std::string& run_dir, const TrainRunOptions& options) {
  TrainInputs in;
  in.name = config.name;
  in.seed = config.seed;
  in.device = config.device;
  // One of several processes (torchrun or srun set the variables): join them.
  TrainRunOptions o = options;
  std::unique_ptr<Communicator> world;
  const WorldOptions w = world_from_environment();
  if (joins_a_world(w) && in.device == "cuda") in.device = "cuda:" + std::to_string(w.local_rank);  // one GPU each
  if (joins_a_world(w) && !o.world) {
    world = std::make_unique<Communicator>(w, parse_device(in.device));
    o.world = world.get();
  }
  // The run's own config: its one method, without the comparison's "methods" list (whose
  // entries a non-causal method's resolved backbone could not serve when the file is read back).
  in.config_text = config_for_method(config.resolved, config.method).dump(2) + "\n";
  in.environment_json = environment_json(config.device).dump(2) + "\n";
  in.backbone_name = config.backbone.value("name", std::string("?"));
  in.diffusion = config.diffusion;
  in.train = config.train;
  const std::unique_ptr<Method> method = build_method(config);
  in.method = method.get();
  const BackboneShape shape = backbone_shape(config, *method);  // the data's shape is read once
  in.make_backbone = [&config, shape] { return build_backbone(config, shape); };
  in.open_data = [&config] { return open_train_source(config); };
  in.validate = make_validation(config, *method);
  return train(in, run_dir, o);
}

RunConfig load_run_config(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / "config.json").string();
  if (!fs::exists(path))
    throw Error("no run in '" + run_dir + "' (no config.json); train one with: dfbench train --config smoke --out " +
                run_dir);
  return parse_run_config(load_json_file(path), path, run_dir);
}

}  // namespace dfb
