#include "pipeline/run_config.h"

#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "backbones/backbone.h"
#include "base/error.h"
#include "formats/h5.h"
#include "base/json_reader.h"
#include "rollout/method.h"
#include "base/presets.h"
#include "base/registry.h"
#include "datasets/dataset_registry.h"

namespace dfb {
namespace {

constexpr const char* kDataFiles[] = {"train_file", "eval_file"};

void read_data(JsonReader& r, DataConfig& d, DataShape& shape, const std::string& base_dir) {
  r.get("dataset", d.dataset)
      .get("train_clips", d.train_clips)
      .get("clip_length", d.clip_length)
      .get("seed", d.seed)
      .get("train_file", d.train_file)
      .get("eval_file", d.eval_file);
  for (std::string* f : {&d.train_file, &d.eval_file})
    if (!base_dir.empty() && !f->empty() && std::filesystem::path(*f).is_relative())
      *f = (std::filesystem::path(base_dir) / *f).lexically_normal().string();
  r.check(d.train_clips >= 1, "train_clips", "must be >= 1");
  r.check(d.clip_length >= 1, "clip_length", "must be >= 1");
  // The options are always checked (they make the evaluation clips when there is no eval_file);
  // a train_file decides the frame shape.
  JsonReader options = r.child("options");
  if (const auto* entry = Registry<DatasetFactory>::instance().find(d.dataset)) {
    Clips probe = entry->factory.make(options, 1, 1, d.seed, "train");
    if (probe.count == 1) shape = {probe.channels, probe.height};
  } else {
    r.check(false, "dataset", unknown_name_message("dataset", d.dataset, Registry<DatasetFactory>::instance().names()));
  }
  if (!d.train_file.empty()) {
    if (!std::filesystem::exists(d.train_file)) {
      r.check(false, "train_file", "no such file: " + d.train_file);
    } else {
      try {
        h5::Reader f(d.train_file);
        std::vector<int64_t> s = f.shape("frames");
        if (s.size() == 5) shape = {s[4], s[2]};
      } catch (const Error& e) {
        r.check(false, "train_file", e.what());
      }
    }
  }
  r.finish();
}

// "precision": "fp32" | "bf16".
void read_precision(JsonReader& r, Precision& p) {
  std::string name = precision_name(p);
  r.get("precision", name);
  r.check(parse_precision(name, p), "precision", "must be fp32 or bf16");
}

void read_train(JsonReader& r, TrainConfig& t) {
  r.get("frames", t.frames)
      .get("steps", t.steps)
      .get("batch", t.batch)
      .get("lr", t.lr)
      .get("warmup", t.warmup)
      .get("min_lr_ratio", t.min_lr_ratio)
      .get("weight_decay", t.weight_decay)
      .get("beta1", t.beta1)
      .get("beta2", t.beta2)
      .get("grad_clip", t.grad_clip)
      .get("ema_decay", t.ema_decay)
      .get("checkpoint_every", t.checkpoint_every)
      .get("log_every", t.log_every)
      .get("validate_every", t.validate_every)
      .get("validate_clips", t.validate_clips)
      .get("keep_checkpoints", t.keep_checkpoints);
  read_precision(r, t.precision);
  r.check(t.frames >= 2, "frames", "must be >= 2");
  r.check(t.steps >= 1, "steps", "must be >= 1");
  r.check(t.batch >= 1, "batch", "must be >= 1");
  r.check(t.lr > 0, "lr", "must be > 0");
  r.check(t.warmup >= 0, "warmup", "must be >= 0");
  r.check(t.min_lr_ratio >= 0 && t.min_lr_ratio <= 1, "min_lr_ratio", "must be in [0, 1]");
  r.check(t.weight_decay >= 0, "weight_decay", "must be >= 0");
  r.check(t.beta1 >= 0 && t.beta1 < 1, "beta1", "must be in [0, 1)");
  r.check(t.beta2 >= 0 && t.beta2 < 1, "beta2", "must be in [0, 1)");
  r.check(t.grad_clip >= 0, "grad_clip", "must be >= 0 (0 disables)");
  r.check(t.ema_decay >= 0 && t.ema_decay < 1, "ema_decay", "must be in [0, 1)");
  r.check(t.checkpoint_every >= 1, "checkpoint_every", "must be >= 1");
  r.check(t.log_every >= 1, "log_every", "must be >= 1");
  r.check(t.validate_every >= 0, "validate_every", "must be >= 0 (0: no validation)");
  r.check(t.validate_clips >= 1, "validate_clips", "must be >= 1");
  r.check(t.keep_checkpoints >= 1, "keep_checkpoints", "must be >= 1");
  r.finish();
}

void read_evaluate(JsonReader& r, EvaluateConfig& e) {
  r.get("encoder_steps", e.encoder_steps)
      .get("encoder_dim", e.encoder_dim)
      .get("bootstrap", e.bootstrap)
      .get("fd_window", e.fd_window);
  r.check(e.encoder_steps >= 1, "encoder_steps", "must be >= 1");
  r.check(e.encoder_dim >= 1, "encoder_dim", "must be >= 1");
  r.check(e.bootstrap >= 0, "bootstrap", "must be >= 0");
  r.check(e.fd_window >= 0, "fd_window", "must be >= 0 (0 = T_train)");
  r.finish();
}

void read_memory(JsonReader& r, MemoryConfig& m, const DataConfig& data, const nlohmann::json& options) {
  r.get("gaps", m.gaps).get("before", m.before).get("after", m.after).get("count", m.count).get("sink", m.sink);
  r.check(m.sink >= 0, "sink", "must be >= 0 (0 = no rollouts with an attention sink)");
  bool ascending = !m.gaps.empty() && m.gaps.front() >= 1;
  for (size_t i = 1; i < m.gaps.size(); ++i) ascending = ascending && m.gaps[i] > m.gaps[i - 1];
  r.check(ascending, "gaps", "must be a non-empty list of gap lengths >= 1 in ascending order");
  r.check(m.before >= 1, "before", "must be >= 1 (frames shown before the gap)");
  r.check(m.after >= 1, "after", "must be >= 1 (frames generated after the gap)");
  r.check(m.count >= 2, "count", "must be >= 2 (the chance level compares each clip with the others)");
  // Generated data must hide objects; with data files (a reproduce stage's own config, whose data
  // stage already wrote the sweep's clips from the generator) the clips are taken as they are.
  const bool blackout = !data.train_file.empty() || (data.dataset == "bouncing_shapes" && options.is_object() &&
                                                     options.contains("memory") && options["memory"] == "blackout");
  r.check(blackout, "gaps",
          "the memory sweep needs generated bouncing_shapes data with \"memory\": \"blackout\" in data.options");
  r.finish();
}

// The config's "sample" section with an entry's own "sampling" options (an object) over it.
nlohmann::json sample_with(const nlohmann::json& json, const nlohmann::json& sampling) {
  nlohmann::json merged = json.is_object() && json.contains("sample") && json["sample"].is_object()
                              ? json["sample"] : nlohmann::json::object();
  for (const auto& [key, value] : sampling.items()) merged[key] = value;
  return merged;
}

void read_sample(JsonReader& r, SampleConfig& s) {
  r.get("steps", s.steps)
      .get("eta", s.eta)
      .get("context", s.context)
      .get("length", s.length)
      .get("count", s.count)
      .get("batch", s.batch);
  if (r.has("sink")) r.get("sink", s.sink);  // recorded only when given: configs without it keep their keys
  read_precision(r, s.precision);
  r.check(s.steps >= 1, "steps", "must be >= 1");
  r.check(s.eta >= 0, "eta", "must be >= 0");
  r.check(s.context >= 1, "context", "must be >= 1 (rollouts start from ground-truth frames)");
  r.check(s.length > s.context, "length", "must exceed context (it counts the context frames too)");
  r.check(s.count >= 1, "count", "must be >= 1");
  r.check(s.batch >= 1, "batch", "must be >= 1");
  r.check(s.sink >= 0, "sink", "must be >= 0 (0 = no attention sink)");
  r.finish();
}

// The "methods" list: each entry read strictly like "method" (a bare name = {"name": name},
// or "method" itself when it names that method),
// and the backbone checked against each one's causality. Labels must be unique. Without a
// list, the one method of "method" (skipped, with the reason in `skipped`, when the backbone
// cannot serve it). Presets name their methods, so a new baseline changes no preset's run.
std::vector<nlohmann::json> read_methods(const nlohmann::json& json, const nlohmann::json& method, const DataShape& shape,
                                         int64_t frames, ConfigErrors& errors, std::vector<std::string>& skipped) {
  std::vector<nlohmann::json> out;
  const bool listed = json.is_object() && json.contains("methods");
  nlohmann::json list = nlohmann::json::array();
  if (listed) {
    list = json["methods"];
    if (!list.is_array() || list.empty()) {
      errors.add("methods", "must be a non-empty list of methods (names or {\"name\": ...} objects)");
      return out;
    }
  } else {
    list.push_back(method);
  }
  std::set<std::string> labels;
  const nlohmann::json backbone = json.contains("backbone") ? json["backbone"] : nlohmann::json::object();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "methods[" + std::to_string(i) + "]";
    // A bare name is {"name": name}, or "method" with its options when it names that method
    // (so --set method.x=... reaches the comparison).
    nlohmann::json entry = !list[i].is_string() ? list[i]
                           : list[i] == method.value("name", nlohmann::json()) ? method
                                                                               : nlohmann::json{{"name", list[i]}};
    // An entry may bring a backbone of its own (the same method on two backbones, under two labels).
    nlohmann::json own_backbone;
    if (entry.is_object() && entry.contains("backbone")) {
      own_backbone = entry["backbone"];
      entry.erase("backbone");
    }
    // ... and sampling options of its own ("sampling"), merged over the config's "sample" (a
    // sampling sweep over one training: an attention sink, more steps), checked here merged.
    nlohmann::json own_sample;
    if (entry.is_object() && entry.contains("sampling")) {
      own_sample = entry["sampling"];
      entry.erase("sampling");
      if (own_sample.is_object()) {
        const nlohmann::json merged = sample_with(json, own_sample);
        JsonReader sr(merged, path + ".sampling", errors);
        SampleConfig unused;
        read_sample(sr, unused);
      } else {
        errors.add(path + ".sampling", "must be an object of options of \"sample\"");
      }
    }
    nlohmann::json resolved = nlohmann::json::object();
    ConfigErrors own;  // an implicit entry's errors belong to "method" (reported there) or to the backbone
    JsonReader m(entry, path, listed ? errors : own);
    m.record_into(resolved);
    std::string label;
    m.get("label", label);
    // A label names the entry's folder (OUT/<label>/) and reaches reports (escaped there).
    if (!label.empty()) {
      bool ok = label.size() <= 200 && label[0] != '.';
      for (char ch : label) ok = ok && ch != '/' && static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f;
      if (!ok) errors.add(path + ".label", "'" + label + "' cannot name a folder: up to 200 characters, no '/', no control "
                                           "character, not starting with '.'");
    }
    std::unique_ptr<Method> made = make_method(m);
    if (!made) continue;
    if (label.empty()) resolved.erase("label");
    if (!labels.insert(method_label(resolved)).second)
      errors.add(path, "'" + method_label(resolved) + "' appears twice; give one entry a distinct \"label\"");
    ConfigErrors backbone_errors;  // reported per method, not as errors of "backbone" itself
    nlohmann::json resolved_backbone = nlohmann::json::object();
    JsonReader b(own_backbone.is_null() ? backbone : own_backbone, own_backbone.is_null() ? "backbone" : path + ".backbone",
                 backbone_errors);
    b.record_into(resolved_backbone);
    make_backbone(b, BackboneShape{shape.channels, shape.size, frames, made->causal()});
    if (!own_backbone.is_null()) resolved["backbone"] = resolved_backbone;
    if (own_sample.is_object()) resolved["sampling"] = own_sample;
    if (!backbone_errors.empty()) {
      if (listed) {
        for (const std::string& line : backbone_errors.lines()) errors.add(path, "with this method, " + line);
      } else {
        skipped.push_back(method_label(resolved) + ": " + backbone_errors.lines().front());
      }
      continue;
    }
    out.push_back(resolved);
  }
  return out;
}

}  // namespace

nlohmann::json config_for_method(const nlohmann::json& json, const nlohmann::json& method) {
  nlohmann::json out = json;
  out.erase("methods");
  nlohmann::json m = method;
  m.erase("label");
  if (m.contains("backbone")) {  // the entry's own backbone replaces the config's
    out["backbone"] = m["backbone"];
    m.erase("backbone");
  }
  if (m.contains("sampling")) {  // the entry's sampling options are merged over the config's "sample"
    if (m["sampling"].is_object()) out["sample"] = sample_with(json, m["sampling"]);
    m.erase("sampling");
  }
  out["method"] = m;
  return out;
}

std::string method_label(const nlohmann::json& method) {
  if (method.contains("label") && method["label"].is_string()) return method["label"].get<std::string>();
  return method.value("name", std::string("diffusion_forcing"));
}

RunConfig parse_run_config(const nlohmann::json& json, const std::string& source, const std::string& base_dir) {
  ConfigErrors errors;
  RunConfig c;
  c.resolved = nlohmann::json::object();
  JsonReader r(json, "", errors);
  r.record_into(c.resolved);
  r.get("name", c.name).get("seed", c.seed).get("seeds", c.seeds).get("device", c.device).get("threads", c.threads);
  r.check(c.seeds >= 1, "seeds", "must be >= 1");
  r.check(c.device == "cpu" || c.device.rfind("cuda", 0) == 0, "device", "must be cpu or cuda[:N]");
  r.check(c.threads >= 0, "threads", "must be >= 0 (0 = all cores)");
  DataShape shape;
  {
    JsonReader d = r.child("data");
    read_data(d, c.data, shape, base_dir);
  }
  {
    JsonReader x = r.child("diffusion");
    read_options(x, c.diffusion);
  }
  {
    JsonReader t = r.child("train");
    read_train(t, c.train);
  }
  {
    JsonReader s = r.child("sample");
    read_sample(s, c.sample);
  }
  {
    JsonReader e = r.child("evaluate");
    read_evaluate(e, c.evaluate);
  }
  if (json.is_object() && json.contains("memory")) {  // optional: recorded only where it is given
    JsonReader m = r.child("memory");
    const nlohmann::json none = nlohmann::json::object();
    const nlohmann::json& data = json.contains("data") && json["data"].is_object() ? json["data"] : none;
    read_memory(m, c.memory, c.data, data.contains("options") ? data["options"] : none);
  }
  r.check(c.data.train_file.empty() ? c.data.clip_length >= c.train.frames : true, "data.clip_length",
          "must be >= train.frames (" + std::to_string(c.train.frames) + ")");
  bool causal = true;
  {
    JsonReader m = r.child("method");
    std::unique_ptr<Method> method = make_method(m);
    if (method) causal = method->causal();
  }
  {
    JsonReader b = r.child("backbone");
    make_backbone(b, BackboneShape{shape.channels, shape.size, c.train.frames, causal});
  }
  c.methods = read_methods(json, c.resolved["method"], shape, c.train.frames, errors, c.methods_skipped);
  if (json.is_object() && json.contains("methods")) {
    r.accept("methods");
    c.resolved["methods"] = c.methods;
  }
  r.finish();
  errors.throw_if_any(source);
  c.data.options = c.resolved["data"]["options"];
  c.backbone = c.resolved["backbone"];
  c.method = c.resolved["method"];
  return c;
}

namespace {

// `json` with relative data files made absolute against `base` ("": the working directory).
nlohmann::json absolute_data_paths(nlohmann::json json, const std::string& base) {
  namespace fs = std::filesystem;
  if (!json.is_object() || !json.contains("data") || !json["data"].is_object()) return json;
  const fs::path root = fs::absolute(base.empty() ? fs::path(".") : fs::path(base));
  for (const char* key : kDataFiles) {
    if (!json["data"].contains(key)) continue;
    nlohmann::json& f = json["data"][key];
    if (f.is_string() && !f.get<std::string>().empty() && fs::path(f.get<std::string>()).is_relative())
      f = (root / f.get<std::string>()).lexically_normal().string();
  }
  return json;
}

}  // namespace

nlohmann::json load_config_json(const std::string& preset_or_path, const std::vector<std::string>& overrides) {
  nlohmann::json j;
  const bool is_file = preset_or_path.find('/') != std::string::npos ||
                       preset_or_path.find(".json") != std::string::npos ||
                       std::filesystem::exists(preset_or_path);
  if (is_file) {
    j = load_json_file(preset_or_path);
  } else {
    const std::string text = preset_json(preset_or_path);
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw Error("embedded preset '" + preset_or_path + "' is not valid JSON: " + e.what());
    }
  }
  // A file's data paths are relative to its folder, a preset's to the working directory.
  j = absolute_data_paths(std::move(j), is_file ? std::filesystem::path(preset_or_path).parent_path().string() : "");
  for (const std::string& o : absolute_data_overrides(overrides)) apply_override(j, o);
  return j;
}

std::vector<std::string> absolute_data_overrides(std::vector<std::string> overrides) {
  for (std::string& o : overrides) {
    for (const char* key : kDataFiles) {
      const std::string prefix = std::string("data.") + key + "=";
      if (o.rfind(prefix, 0) != 0) continue;
      std::string value = o.substr(prefix.size());
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (!value.empty() && std::filesystem::path(value).is_relative())
        o = prefix + std::filesystem::absolute(value).lexically_normal().string();
    }
  }
  return overrides;
}

nlohmann::json data_paths_relative_to(nlohmann::json json, const std::string& root, const std::string& dir) {
  namespace fs = std::filesystem;
  if (!json.is_object() || !json.contains("data") || !json["data"].is_object()) return json;
  const fs::path r = fs::absolute(root).lexically_normal(), d = fs::absolute(dir).lexically_normal();
  for (const char* key : kDataFiles) {
    if (!json["data"].contains(key) || !json["data"][key].is_string()) continue;
    const fs::path f = fs::absolute(json["data"][key].get<std::string>()).lexically_normal();
    const fs::path in_root = f.lexically_relative(r);
    if (in_root.empty() || *in_root.begin() == "..") continue;  // not under root: as it is
    json["data"][key] = f.lexically_relative(d).string();
  }
  return json;
}

DataShape data_shape(const RunConfig& config) {
  DataShape shape;
  if (!config.data.train_file.empty()) {
    h5::Reader f(config.data.train_file);
    std::vector<int64_t> s = f.shape("frames");
    if (s.size() != 5) throw Error(config.data.train_file + ": /frames must have 5 dimensions [N, L, H, W, C]");
    return {s[4], s[2]};
  }
  ConfigErrors errors;
  JsonReader r(config.data.options, "data.options", errors);
  Clips probe = Registry<DatasetFactory>::instance().get(config.data.dataset).factory.make(r, 1, 1, config.data.seed, "train");
  errors.throw_if_any("config");
  return {probe.channels, probe.height};
}

}  // namespace dfb
