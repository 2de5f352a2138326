// The reproduce stages as a library, in this process (no binary spawned): a run is made
// once, a rerun changes no file, a sampling-only change keeps the trained model and redoes
// the rollouts, a training change sets the old run aside and trains again, and a run whose
// last checkpoint and rollouts were lost resumes to the same bytes. The training key
// changes with every option that shapes the weights and with nothing else.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>

#include "base/error.h"
#include "base/files.h"
#include "pipeline/train_run.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "formats/rollout_file.h"
#include "pipeline/reproduce.h"
#include "pipeline/reproduce_stages.h"
#include "pipeline/run_config.h"
#include "rollout/method.h"
#include "tensor/compat.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

std::map<std::string, fs::file_time_type> stamps(const std::string& dir) {
  std::map<std::string, fs::file_time_type> m;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) m[e.path().string()] = e.last_write_time();
  return m;
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::TempDir() + "dfb_pipeline_" + name;
  fs::remove_all(dir);
  return dir;
}

TEST(ReproduceStages, ReuseSetAsideAndResumeInProcess) {
  at::set_num_threads(1);  // bitwise comparable runs
  ReproduceOptions o;
  o.preset = "tiny";
  o.out = fresh_dir("stages");
  o.methods = {"teacher_forcing"};
  o.jobs = 1;
  reproduce(o);
  const std::string run = o.out + "/teacher_forcing";
  for (const char* f : {"/teacher_forcing/samples.h5", "/metrics.json", "/curves.csv", "/report/index.html"})
    EXPECT_TRUE(fs::exists(o.out + f)) << f;
  const Rollouts first = read_rollout_file(run + "/samples.h5");

  // Nothing changed: nothing is written.
  auto before = stamps(o.out);
  reproduce(o);
  EXPECT_EQ(stamps(o.out), before);

  // Only a sampling option changed: the checkpoints stay, the rollouts are made again.
  ReproduceOptions sampling = o;
  sampling.sets = {"sample.steps=2"};
  reproduce(sampling);
  auto after = stamps(o.out);
  for (const auto& [path, t] : before)
    if (path.find("/checkpoints/") != std::string::npos) {
      EXPECT_EQ(after.at(path), t) << path;
    }
  EXPECT_NE(after.at(run + "/samples.h5"), before.at(run + "/samples.h5"));
  EXPECT_NE(read_rollout_file(run + "/samples.h5").stage_key, first.stage_key);
  EXPECT_FALSE(fs::exists(o.out + "/.replaced"));

  // A training option changed: the old run is set aside whole and the method trained again.
  ReproduceOptions training = o;
  training.sets = {"train.lr=0.002"};
  reproduce(training);
  ASSERT_TRUE(fs::exists(o.out + "/.replaced"));
  int aside = 0;
  for (const auto& e : fs::directory_iterator(o.out + "/.replaced")) {
    ++aside;
    EXPECT_TRUE(fs::exists(e.path() / "checkpoints")) << e.path();
  }
  EXPECT_EQ(aside, 1);
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step_000006.h5"));

  // Back to the first config, the last checkpoint and the rollouts lost: training resumes
  // from the checkpoint left and the rollouts come out as the first time, bit for bit.
  reproduce(o);  // (sets the lr=0.002 run aside in turn)
  fs::remove(run + "/checkpoints/step_000006.h5");
  fs::remove(run + "/samples.h5");
  reproduce(o);
  const Rollouts again = read_rollout_file(run + "/samples.h5");
  EXPECT_EQ(again.stage_key, first.stage_key);
  EXPECT_EQ(again.generated.frames, first.generated.frames);
  fs::remove_all(o.out);
}

// Every leaf of a JSON value, by its path, with a function that changes it.
void leaves(const nlohmann::json& j, const std::string& path, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) leaves(v, path.empty() ? k : path + "/" + k, out);
  } else {
    out.push_back(path);
  }
}

nlohmann::json changed(nlohmann::json j, const std::string& path) {
  nlohmann::json& v = j[nlohmann::json::json_pointer("/" + path)];
  if (v.is_boolean()) v = !v.get<bool>();
  else if (v.is_number_integer()) v = v.get<int64_t>() + 1;
  else if (v.is_number()) v = v.get<double>() * 1.5 + 0.25;
  else if (v.is_string()) v = v.get<std::string>() + "_other";
  else v = nlohmann::json::array({v, 1});
  return j;
}

TEST(TrainKey, EveryTrainingOptionChangesItAndNothingElseDoes) {
  for (const char* method : {"diffusion_forcing", "teacher_forcing", "full_sequence", "rolling_diffusion"}) {
    // A method's own config, as reproduce trains it (pipeline/run_config.h: config_for_method).
    const RunConfig c = parse_run_config(config_for_method(load_config_json("tiny", {}), {{"name", method}}), "tiny");
    const nlohmann::json& resolved = c.resolved;
    const std::string base = train_key(resolved, "data");
    EXPECT_NE(train_key(resolved, "other data"), base);
    const nlohmann::json training_method = training_part(resolved["method"]);
    std::vector<std::string> paths;
    leaves(resolved, "", paths);
    int training = 0, not_training = 0;
    for (const std::string& p : paths) {
      const std::string section = p.substr(0, p.find('/'));
      bool shapes_training = !(section == "data" || section == "sample" || section == "evaluate" || section == "device" ||
                               section == "threads" || section == "name" || section == "seeds");
      if (section == "method" && p != "method/name")
        shapes_training = training_method.contains(p.substr(p.find('/') + 1));  // not declared sampling-time
      const bool key_changed = train_key(changed(resolved, p), "data") != base;
      EXPECT_EQ(key_changed, shapes_training) << method << ": " << p;
      (shapes_training ? training : not_training) += 1;
    }
    EXPECT_GT(training, 20) << method;  // train.*, diffusion.*, backbone.*, seed, ...
    EXPECT_GT(not_training, 5) << method;
  }
}

// An option declared sampling-time (JsonReader::sampling_time) must not change what training
// sees of the method: its training levels from the same generator, and its causality (which
// decides the backbone). Every such option of every registered method is changed in turn.
TEST(SamplingOptions, DeclaredOnesLeaveTrainingAlone) {
  int checked = 0;
  for (const std::string& name : Registry<MethodFactory>::instance().names()) {
    const RunConfig c = parse_run_config(config_for_method(load_config_json("tiny", {}), {{"name", name}}), "tiny");
    const nlohmann::json& resolved = c.resolved["method"];
    const nlohmann::json training = training_part(resolved);
    auto levels_of = [](const nlohmann::json& options, bool& causal) {
      ConfigErrors errors;
      JsonReader r(options, "method", errors);
      const std::unique_ptr<Method> m = make_method(r);
      if (!m || !errors.empty()) return torch::Tensor();
      causal = m->causal();
      at::Generator gen = make_generator(7);
      const TrainLevels t = m->training_levels(4, 6, 100, gen);
      return torch::cat({t.levels.to(torch::kFloat32), t.loss_mask});
    };
    bool causal = false;
    const torch::Tensor base = levels_of(resolved, causal);
    ASSERT_TRUE(base.defined()) << name;
    for (const auto& [key, value] : resolved.items()) {
      if (training.contains(key)) continue;  // a training option
      nlohmann::json other = resolved;
      if (value.is_number_integer()) other[key] = value.get<int64_t>() + 1;
      else if (value.is_number()) other[key] = value.get<double>() * 0.5;
      else if (value.is_boolean()) other[key] = !value.get<bool>();
      else if (key == "scheduling") other[key] = value == "pyramid" ? "autoregressive" : "pyramid";
      else continue;
      bool other_causal = false;
      const torch::Tensor changed = levels_of(other, other_causal);
      if (!changed.defined()) continue;  // not a valid value for this option
      EXPECT_TRUE(torch::equal(changed, base)) << name << "." << key << " changes the training levels";
      EXPECT_EQ(other_causal, causal) << name << "." << key << " changes the causality";
      ++checked;
    }
  }
  EXPECT_GE(checked, 8);  // diffusion_forcing alone declares six
}

// The memory sweep (docs/design.md §4.8): data with blackouts and random colours, the same method on a
// windowed and on a recurrent backbone, a rollout file per gap, and metrics.json's memory section.
TEST(MemorySweep, ReproduceScoresEveryGapAndMarksTheBlindOnes) {
  at::set_num_threads(1);
  ReproduceOptions o;
  o.preset = "tiny";
  o.out = fresh_dir("memory");
  o.jobs = 1;
  o.sets = {"data.options.colors=\"random\"", "data.options.memory=\"blackout\"", "data.options.gap_min=1",
            "data.options.gap_max=2", "data.options.gap_start_min=1", "data.options.gap_share=0.5",
            "memory={\"gaps\": [2, 4], \"before\": 2, \"after\": 2, \"count\": 3, \"sink\": 1}",
            "methods=[\"teacher_forcing\", {\"name\": \"teacher_forcing\", \"label\": \"tf_convgru\", \"backbone\": "
            "{\"name\": \"convgru\", \"base\": 8, \"mults\": [1, 2], \"heads\": 2, \"groups\": 4}}]"};
  reproduce(o);
  for (const char* f : {"/data/memory_G2.h5", "/data/memory_G4.h5", "/teacher_forcing/memory_G2.h5",
                        "/teacher_forcing/memory_G4.h5", "/teacher_forcing/memory_G4_sink.h5", "/tf_convgru/memory_G4.h5",
                        "/report/index.html"})
    EXPECT_TRUE(fs::exists(o.out + f)) << f;
  EXPECT_FALSE(fs::exists(o.out + "/tf_convgru/memory_G4_sink.h5")) << "a recurrent state needs no sink";
  // The recurrent entry trained its own backbone.
  EXPECT_EQ(load_run_config(o.out + "/tf_convgru").backbone["name"], "convgru");
  EXPECT_EQ(load_run_config(o.out + "/teacher_forcing").backbone["name"], "unet3d");
  // A rollout file of gap 4: the context runs to the end of the gap.
  const Rollouts r = read_rollout_file(o.out + "/teacher_forcing/memory_G4.h5");
  EXPECT_EQ(r.context, 2 + 4);
  EXPECT_EQ(r.truth.length, 2 + 4 + 2);
  EXPECT_EQ(r.truth.visible.size(), static_cast<size_t>(3 * 8 * 1));

  const nlohmann::json m = nlohmann::json::parse(read_file(o.out + "/metrics.json"));
  ASSERT_TRUE(m.contains("memory")) << "metrics.json has a memory section";
  const nlohmann::json& methods = m["memory"]["methods"];
  for (const char* set : {"teacher_forcing", "tf_convgru", "truth"}) {
    ASSERT_TRUE(methods.contains(set)) << set;
    ASSERT_EQ(methods[set]["gaps"].size(), 2u) << set;
    EXPECT_EQ(methods[set]["gaps"][1]["gap"], 4);
    EXPECT_TRUE(methods[set]["gaps"][0].contains("chance"));
  }
  for (const auto& g : methods["truth"]["gaps"]) EXPECT_DOUBLE_EQ(g["colour_recall"]["mean"].get<double>(), 1.0);
  EXPECT_EQ(methods["teacher_forcing"]["window"], 4);  // tiny's train.frames
  EXPECT_EQ(methods["tf_convgru"]["window"], 0);
  EXPECT_FALSE(methods["teacher_forcing"]["gaps"][0]["blind"].get<bool>());
  EXPECT_TRUE(methods["teacher_forcing"]["gaps"][1]["blind"].get<bool>()) << "a gap of 4 fills a window of 4";
  EXPECT_FALSE(methods["tf_convgru"]["gaps"][1]["blind"].get<bool>());
  ASSERT_TRUE(methods.contains("teacher_forcing+sink1"));
  EXPECT_EQ(methods["teacher_forcing+sink1"]["sink"], 1);
  EXPECT_FALSE(methods["teacher_forcing+sink1"]["gaps"][1]["blind"].get<bool>()) << "the sink keeps a frame from before the gap";
  EXPECT_NE(read_file(o.out + "/report/index.html").find("<h2>Memory</h2>"), std::string::npos);

  // Nothing changed: nothing is written.
  const auto before = stamps(o.out);
  reproduce(o);
  EXPECT_EQ(stamps(o.out), before);
}

// fifo_diffusion trains as full_sequence (MethodFactory::trains_as): reproduce trains that model
// once and samples both methods from it; a rerun finds both done.
TEST(SharedTraining, FifoDiffusionSamplesTheFullSequenceModel) {
  at::set_num_threads(1);
  ReproduceOptions o;
  o.preset = "tiny";
  o.out = fresh_dir("shared");
  o.jobs = 1;
  o.sets = {"methods=[\"full_sequence\", {\"name\": \"fifo_diffusion\", \"partitions\": 2}]"};
  reproduce(o);
  EXPECT_TRUE(fs::exists(o.out + "/full_sequence/train_log.jsonl"));
  EXPECT_FALSE(fs::exists(o.out + "/fifo_diffusion/checkpoints")) << "no second training";
  const Rollouts r = read_rollout_file(o.out + "/fifo_diffusion/samples.h5");
  EXPECT_EQ(r.method, "fifo_diffusion");
  EXPECT_EQ(r.checkpoint_step, 6) << "full_sequence's last checkpoint (tiny trains 6 steps)";
  const nlohmann::json m = nlohmann::json::parse(read_file(o.out + "/metrics.json"));
  EXPECT_TRUE(m["metrics"]["oracle_valid"]["methods"].contains("fifo_diffusion"));
  const auto before = stamps(o.out);
  reproduce(o);
  EXPECT_EQ(stamps(o.out), before);

  // Another run samples these models (--models): an entry with sampling options of its own
  // (an attention sink) and full_sequence again, trained nowhere new.
  ReproduceOptions sweep = o;
  sweep.out = fresh_dir("shared-sweep");
  sweep.models = o.out;
  sweep.sets = {"methods=[\"full_sequence\", {\"name\": \"full_sequence\", \"label\": \"fs_sink\", \"sampling\": {\"sink\": 1}}]"};
  reproduce(sweep);
  EXPECT_FALSE(fs::exists(sweep.out + "/full_sequence/checkpoints"));
  EXPECT_FALSE(fs::exists(sweep.out + "/fs_sink/checkpoints"));
  const Rollouts with_sink = read_rollout_file(sweep.out + "/fs_sink/samples.h5");
  EXPECT_EQ(nlohmann::json::parse(with_sink.config_json)["sample"]["sink"], 1);
  EXPECT_EQ(read_rollout_file(sweep.out + "/full_sequence/samples.h5").generated.frames,
            read_rollout_file(o.out + "/full_sequence/samples.h5").generated.frames)
      << "the same model, sampled the same way";
  // An entry's sampling options are read strictly.
  ReproduceOptions bad = sweep;
  bad.sets = {"methods=[{\"name\": \"full_sequence\", \"label\": \"x\", \"sampling\": {\"snik\": 1}}]"};
  try {
    reproduce(bad);
    ADD_FAILURE() << "an unknown sampling option must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("methods[0].sampling.snik"), std::string::npos) << e.what();
  }

  // Which entries share: the same training in the same seed, the first of them trains.
  const nlohmann::json tiny = load_config_json("tiny", {});
  auto resolved = [&](const nlohmann::json& method, int64_t seed) {
    nlohmann::json j = config_for_method(tiny, method);
    j["seed"] = seed;
    return parse_run_config(j, "tiny").resolved;
  };
  std::vector<MethodJob> jobs = {{"fifo_diffusion", 0, "a", ""}, {"full_sequence", 0, "b", ""},
                                 {"full_sequence", 1, "c", ""}, {"teacher_forcing", 0, "d", ""},
                                 {"full_sequence_g0", 0, "e", ""}};
  share_training(jobs, {resolved({{"name", "fifo_diffusion"}}, 0), resolved({{"name", "full_sequence"}}, 0),
                        resolved({{"name", "full_sequence"}}, 1), resolved({{"name", "teacher_forcing"}}, 0),
                        resolved({{"name", "full_sequence"}, {"guidance", 0}}, 0)});
  EXPECT_EQ(jobs[0].model(), "a") << "the first entry of a training trains it";
  EXPECT_EQ(jobs[1].model(), "a");
  EXPECT_EQ(jobs[2].model(), "c") << "another seed is another training";
  EXPECT_EQ(jobs[3].model(), "d");
  EXPECT_EQ(jobs[4].model(), "a") << "a sampling-time option leaves the training the same";
}

}  // namespace
}  // namespace dfb
