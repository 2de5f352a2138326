// Strict JSON config reading (conventions: an unknown key or a wrong type is an
// error naming the JSON path and suggesting the closest key).
//
// The set of valid keys is the set of keys asked for: an options struct reads
// itself with get()/child() and ends with finish(), which reports every key it
// did not ask for. Errors are collected (so `dfbench validate` lists all of
// them at once); ConfigErrors::throw_if_any() turns them into one dfb::Error.
//
//   ConfigErrors errors;
//   JsonReader r(json, "", errors);
//   JsonReader t = r.child("train");
//   t.get("steps", opts.steps).get("lr", opts.lr);
//   t.check(opts.steps > 0, "steps", "must be > 0");
//   t.finish();
//   r.finish();
//   errors.throw_if_any("configs/smoke.json");
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dfb {

class ConfigErrors {
 public:
  void add(const std::string& path, const std::string& message);  // stored as "path: message"
  bool empty() const { return lines_.empty(); }
  const std::vector<std::string>& lines() const { return lines_; }
  // Throws dfb::Error: "<source>: N config error(s):\n  a.b: ...\n  c: ..." (one error: one line).
  void throw_if_any(const std::string& source) const;

 private:
  std::vector<std::string> lines_;
};

class JsonReader {
 public:
  // `path` is the JSON path of `json` ("" for the root; children are "train", "train.lr", "x[2]").
  JsonReader(const nlohmann::json& json, std::string path, ConfigErrors& errors);

  // Reads `key` into `out` when present; keeps `out` (the default) when absent.
  // A value of the wrong type is an error naming the path, the expected and the found type.
  // Supported: bool, int, int64_t, uint64_t, double, float, std::string, std::vector of
  // int / int64_t / double / std::string, nlohmann::json (anything).
  template <class T>
  JsonReader& get(const char* key, T& out);
  // As get(), but an absent key is an error.
  template <class T>
  JsonReader& required(const char* key, T& out);
  // A string that must be one of `choices` ("unknown value 'x' for train.sched, did you mean 'y'? ...").
  JsonReader& get_choice(const char* key, std::string& out, const std::vector<std::string>& choices);

  // The object at `key` (an empty object when absent; an error when not an object).
  JsonReader child(const char* key);
  bool has(const char* key) const;
  // Marks `key` as known without reading it (for keys interpreted elsewhere).
  void accept(const char* key);

  // Declares the key read last (by get, required or get_choice) as acting only at sampling
  // time (a scheduling choice, a guidance weight), beside where it is read: changing it keeps
  // a trained model valid. Every key not so declared shapes training.
  //   r.get("guidance", o.guidance).sampling_time();
  JsonReader& sampling_time();
  // The keys declared with sampling_time(), in the order read.
  const std::vector<std::string>& sampling_keys() const { return sampling_keys_; }

  // Adds "path.key: message" when !ok. Returns ok.
  bool check(bool ok, const char* key, const std::string& message);
  // Reports every key not asked for: "path.key: unknown key, did you mean 'x'?".
  // Also reports when the value itself is not an object.
  void finish();

  // From now on, every value read (or its default, when absent) is also written
  // into `resolved` at the same key, and children record into resolved[key]:
  // reading a config this way yields the fully resolved config.
  JsonReader& record_into(nlohmann::json& resolved);

  const std::string& path() const { return path_; }
  std::string path_of(const char* key) const;
  ConfigErrors& errors() { return *errors_; }

 private:
  const nlohmann::json* json_;
  std::string path_;
  ConfigErrors* errors_;
  std::vector<std::string> asked_;
  nlohmann::json empty_;
  nlohmann::json* resolved_ = nullptr;  // unused: absent/invalid children point at a shared static empty object
  bool finished_ = false;  // finish() reports only once
  std::string last_key_;   // the key read last (what sampling_time() declares)
  std::vector<std::string> sampling_keys_;

  void mark_asked(const char* key);
  const nlohmann::json* find(const char* key) const;  // nullptr when absent (or not an object)
};

// Reads a JSON file; a missing file or a syntax error throws dfb::Error naming
// the file (and the line and column of a syntax error).
nlohmann::json load_json_file(const std::string& path);

// Applies one "a.b.c=value" override: value is parsed as JSON when it parses
// (numbers, true/false, null, arrays, objects, quoted strings), else taken as a plain
// string. Missing intermediate objects are created; a non-object on the way is an
// error. Whether the key is valid is left to the strict reader.
void apply_override(nlohmann::json& config, const std::string& assignment);

}  // namespace dfb
