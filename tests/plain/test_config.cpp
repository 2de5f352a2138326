// Tests for base/suggest and base/json_reader: "did you mean" suggestions, strict
// config reading, --set overrides and JSON file loading.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json_reader.h"
#include "base/suggest.h"

namespace dfb {
namespace {

using nlohmann::json;

// The message of the dfb::Error that `fn` throws ("" when it does not throw).
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// ---------------------------------------------------------------- suggest

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abcd"), 4u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
  EXPECT_EQ(edit_distance("lr", "lrr"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 2u);  // no transposition
}

TEST(Suggest, ClosestMatch) {
  const std::vector<std::string> names = {"steps", "lr", "batch_size", "warmup"};
  EXPECT_EQ(closest_match("stpes", names), "steps");
  EXPECT_EQ(closest_match("lrr", names), "lr");
  EXPECT_EQ(closest_match("batchsize", names), "batch_size");
  EXPECT_EQ(closest_match("completely_different", names), "");
  EXPECT_EQ(closest_match("x", {}), "");
  // Ties go to the first candidate.
  EXPECT_EQ(closest_match("ab", {"ax", "ay"}), "ax");
  // Long names allow more edits: max(2, 12 / 3) = 4.
  EXPECT_EQ(closest_match("diffusion_fx", {"diffusion_forcing"}), "");
  EXPECT_EQ(closest_match("difusion_forcng", {"diffusion_forcing"}), "diffusion_forcing");
}

TEST(Suggest, UnknownNameMessage) {
  EXPECT_EQ(unknown_name_message("method", "difusion", {"diffusion", "teacher_forcing"}),
            "unknown method 'difusion', did you mean 'diffusion'? available: diffusion, "
            "teacher_forcing");
  EXPECT_EQ(unknown_name_message("method", "zzzzzzzz", {"diffusion", "teacher_forcing"}),
            "unknown method 'zzzzzzzz'; available: diffusion, teacher_forcing");
  EXPECT_EQ(unknown_name_message("dataset", "x", {}), "unknown dataset 'x' (none available)");
}

// ---------------------------------------------------------------- strict reading

struct TrainOptions {
  int steps = 10;
  double lr = 1e-3;
  std::string sched = "cosine";
};

// Reads {"train": {...}} strictly, the way an options struct would.
ConfigErrors read_train(const json& config, TrainOptions& opts) {
  ConfigErrors errors;
  JsonReader r(config, "", errors);
  JsonReader t = r.child("train");
  t.get("steps", opts.steps).get("lr", opts.lr);
  t.get_choice("sched", opts.sched, {"cosine", "linear", "constant"});
  t.finish();
  r.finish();
  return errors;
}

TEST(JsonReader, ReadsValues) {
  TrainOptions opts;
  ConfigErrors errors = read_train(
      json::parse(R"({"train": {"steps": 500, "lr": 0.01, "sched": "linear"}})"), opts);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(opts.steps, 500);
  EXPECT_DOUBLE_EQ(opts.lr, 0.01);
  EXPECT_EQ(opts.sched, "linear");
}

TEST(JsonReader, AbsentKeysKeepDefaults) {
  TrainOptions opts;
  EXPECT_TRUE(read_train(json::parse(R"({"train": {"lr": 2}})"), opts).empty());
  EXPECT_EQ(opts.steps, 10);
  EXPECT_DOUBLE_EQ(opts.lr, 2.0);  // an integer is a valid double
  EXPECT_EQ(opts.sched, "cosine");

  TrainOptions untouched;
  EXPECT_TRUE(read_train(json::object(), untouched).empty());  // absent child: empty object
  EXPECT_EQ(untouched.steps, 10);
}

TEST(JsonReader, UnknownKeySuggests) {
  TrainOptions opts;
  ConfigErrors errors = read_train(json::parse(R"({"train": {"lrr": 0.1}})"), opts);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "train.lrr: unknown key, did you mean 'lr'?");

  errors = read_train(json::parse(R"({"train": {"foo_bar_baz": 1}})"), opts);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "train.foo_bar_baz: unknown key (known: steps, lr, sched)");

  errors = read_train(json::parse(R"({"trian": {}})"), opts);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "trian: unknown key, did you mean 'train'?");
}

TEST(JsonReader, AcceptedKeysAreKnown) {
  ConfigErrors errors;
  json config = json::parse(R"({"model": {"kind": "mlp"}, "note": "x", "mdoel": 1})");
  JsonReader r(config, "", errors);
  r.accept("model");
  r.accept("note");
  r.finish();
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "mdoel: unknown key, did you mean 'model'?");
}

TEST(JsonReader, WrongTypeNamesThePath) {
  TrainOptions opts;
  ConfigErrors errors = read_train(json::parse(R"({"train": {"lr": "abc"}})"), opts);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], R"(train.lr: expected a number, found "abc")");
  EXPECT_DOUBLE_EQ(opts.lr, 1e-3);  // a bad value keeps the default
}

TEST(JsonReader, FoundValueIsTruncated) {
  ConfigErrors errors;
  json config = {{"name", std::vector<int>(100, 7)}};
  JsonReader r(config, "", errors);
  std::string name;
  r.get("name", name);
  ASSERT_EQ(errors.lines().size(), 1u);
  const std::string& line = errors.lines()[0];
  EXPECT_EQ(line.rfind("name: expected a string, found [7,7,", 0), 0u) << line;
  EXPECT_LE(line.size(), std::string("name: expected a string, found ").size() + 40);
  EXPECT_EQ(line.substr(line.size() - 3), "...");
}

TEST(JsonReader, IntegerAndFloatRules) {
  ConfigErrors errors;
  json config = json::parse(R"({"a": 2.5, "b": 3000000000, "c": -3, "d": 7, "e": 7,
                                "f": -9000000000, "g": 1.0, "h": true, "i": 1})");
  JsonReader r(config, "", errors);
  int a = 0, b = 0, d = 0;
  std::uint64_t c = 0;
  float e = 0;
  std::int64_t f = 0, g = 0;
  bool h = false, i = false;
  r.get("a", a).get("b", b).get("c", c).get("d", d).get("e", e).get("f", f).get("g", g);
  r.get("h", h).get("i", i);
  r.finish();
  EXPECT_EQ(d, 7);
  EXPECT_FLOAT_EQ(e, 7.0f);
  EXPECT_EQ(f, -9000000000);
  EXPECT_TRUE(h);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(c, 0u);
  EXPECT_EQ(g, 0);
  EXPECT_FALSE(i);
  ASSERT_EQ(errors.lines().size(), 5u);
  EXPECT_EQ(errors.lines()[0], "a: expected an integer, found 2.5");
  EXPECT_EQ(errors.lines()[1],
            "b: expected an integer from -2147483648 to 2147483647, found 3000000000");
  EXPECT_EQ(errors.lines()[2], "c: expected a non-negative integer, found -3");
  EXPECT_EQ(errors.lines()[3], "g: expected an integer, found 1.0");
  EXPECT_EQ(errors.lines()[4], "i: expected a boolean, found 1");
}

TEST(JsonReader, Vectors) {
  ConfigErrors errors;
  json config = json::parse(R"({"ints": [1, 2, 3], "nums": [1, 2.5], "strs": ["a", "b"],
                                "bad": [1, 2, 2.5], "notarr": 5, "big": [5000000000],
                                "any": {"x": [1, null]}})");
  JsonReader r(config, "", errors);
  std::vector<int> ints, bad = {9};
  std::vector<double> nums;
  std::vector<std::string> strs, notarr = {"keep"};
  std::vector<std::int64_t> big;
  json any;
  r.get("ints", ints).get("nums", nums).get("strs", strs).get("bad", bad);
  r.get("notarr", notarr).get("big", big).get("any", any);
  r.finish();
  EXPECT_EQ(ints, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(nums, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(strs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(big, (std::vector<std::int64_t>{5000000000}));
  EXPECT_EQ(any, config["any"]);
  EXPECT_EQ(bad, (std::vector<int>{9}));
  EXPECT_EQ(notarr, (std::vector<std::string>{"keep"}));
  ASSERT_EQ(errors.lines().size(), 2u);
  EXPECT_EQ(errors.lines()[0], "bad[2]: expected an integer, found 2.5");
  EXPECT_EQ(errors.lines()[1], "notarr: expected an array of strings, found 5");
}

TEST(JsonReader, GetChoice) {
  TrainOptions opts;
  ConfigErrors errors = read_train(json::parse(R"({"train": {"sched": "linaer"}})"), opts);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0],
            "train.sched: unknown value 'linaer', did you mean 'linear'? available: cosine, "
            "linear, constant");
  EXPECT_EQ(opts.sched, "cosine");

  errors = read_train(json::parse(R"({"train": {"sched": 3}})"), opts);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "train.sched: expected a string, found 3");
}

TEST(JsonReader, NestedPaths) {
  ConfigErrors errors;
  json config = json::parse(R"({"a": {"b": {"c": "x", "d": 1}}})");
  JsonReader r(config, "", errors);
  JsonReader a = r.child("a");
  JsonReader b = a.child("b");
  EXPECT_EQ(b.path(), "a.b");
  EXPECT_EQ(b.path_of("c"), "a.b.c");
  EXPECT_TRUE(b.has("c"));
  EXPECT_FALSE(b.has("zz"));
  int c = 0;
  b.get("c", c);
  b.finish();
  a.finish();
  r.finish();
  ASSERT_EQ(errors.lines().size(), 2u);
  EXPECT_EQ(errors.lines()[0], R"(a.b.c: expected an integer, found "x")");
  EXPECT_EQ(errors.lines()[1], "a.b.d: unknown key, did you mean 'c'?");
}

TEST(JsonReader, RequiredAndCheck) {
  ConfigErrors errors;
  json config = json::parse(R"({"steps": 0})");
  JsonReader r(config, "", errors);
  int steps = 1;
  std::string name;
  r.required("steps", steps).required("name", name);
  r.check(steps > 0, "steps", "must be > 0");
  EXPECT_TRUE(r.check(true, "steps", "never"));
  r.finish();
  ASSERT_EQ(errors.lines().size(), 2u);
  EXPECT_EQ(errors.lines()[0], "name: missing required key");
  EXPECT_EQ(errors.lines()[1], "steps: must be > 0");
}

TEST(JsonReader, ChildOfNonObject) {
  ConfigErrors errors;
  json config = json::parse(R"({"train": [1, 2]})");
  JsonReader r(config, "", errors);
  JsonReader t = r.child("train");
  int steps = 5;
  t.get("steps", steps);
  t.finish();
  r.finish();
  EXPECT_EQ(steps, 5);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "train: expected an object, found [1,2]");
}

TEST(JsonReader, RootNotObjectAndFinishOnce) {
  ConfigErrors errors;
  json config = 42;
  JsonReader r(config, "", errors);
  int x = 0;
  r.get("x", x);
  r.finish();
  r.finish();
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_EQ(errors.lines()[0], "expected an object, found 42");

  ConfigErrors errors2;
  json config2 = json::parse(R"({"zzz": 1})");
  JsonReader r2(config2, "", errors2);
  r2.finish();
  r2.finish();
  ASSERT_EQ(errors2.lines().size(), 1u);
  EXPECT_EQ(errors2.lines()[0], "zzz: unknown key (no keys are expected here)");
}

TEST(JsonReader, CopiedChildReaderStaysValid) {
  ConfigErrors errors;
  json config = json::object();
  JsonReader r(config, "", errors);
  std::vector<JsonReader> children;
  for (int i = 0; i < 10; ++i) children.push_back(r.child("absent"));  // forces moves
  int x = 3;
  for (JsonReader& c : children) {
    c.get("x", x);
    c.finish();
  }
  EXPECT_EQ(x, 3);
  EXPECT_TRUE(errors.empty());
}

TEST(ConfigErrors, CollectsSeveralAndThrows) {
  TrainOptions opts;
  ConfigErrors errors =
      read_train(json::parse(R"({"train": {"steps": 1.5, "lr": "abc", "lrr": 1}})"), opts);
  ASSERT_EQ(errors.lines().size(), 3u);
  EXPECT_EQ(error_of([&] { errors.throw_if_any("configs/smoke.json"); }),
            "configs/smoke.json: 3 config errors:\n"
            "  train.steps: expected an integer, found 1.5\n"
            "  train.lr: expected a number, found \"abc\"\n"
            "  train.lrr: unknown key, did you mean 'lr'?");

  ConfigErrors one;
  one.add("train.lr", "must be > 0");
  EXPECT_EQ(error_of([&] { one.throw_if_any("c.json"); }), "c.json: train.lr: must be > 0");

  ConfigErrors none;
  EXPECT_NO_THROW(none.throw_if_any("c.json"));
}

// ---------------------------------------------------------------- overrides

TEST(ApplyOverride, ParsesValues) {
  json config = json::parse(R"({"train": {"steps": 1}, "method": {"name": "x"}})");
  apply_override(config, "train.steps=300");
  apply_override(config, "train.lr=1e-4");
  apply_override(config, "method.name=diffusion_forcing");
  apply_override(config, "train.flag=true");
  apply_override(config, "train.dims=[1,2,3]");
  apply_override(config, "train.quoted=\"42\"");
  apply_override(config, "train.empty=");
  apply_override(config, "train.eq=a=b");
  EXPECT_EQ(config["train"]["steps"], 300);
  EXPECT_DOUBLE_EQ(config["train"]["lr"].get<double>(), 1e-4);
  EXPECT_EQ(config["method"]["name"], "diffusion_forcing");
  EXPECT_EQ(config["train"]["flag"], true);
  EXPECT_EQ(config["train"]["dims"], json::parse("[1,2,3]"));
  EXPECT_EQ(config["train"]["quoted"], "42");
  EXPECT_EQ(config["train"]["empty"], "");
  EXPECT_EQ(config["train"]["eq"], "a=b");
}

TEST(ApplyOverride, CreatesIntermediateObjects) {
  json config = json::object();
  apply_override(config, "a.b.c=3");
  apply_override(config, "top=x");
  EXPECT_EQ(config, json::parse(R"({"a": {"b": {"c": 3}}, "top": "x"})"));

  json null_config;
  apply_override(null_config, "k=1");
  EXPECT_EQ(null_config, json::parse(R"({"k": 1})"));
}

TEST(ApplyOverride, Errors) {
  json config = json::parse(R"({"train": {"steps": 1}})");
  EXPECT_EQ(error_of([&] { apply_override(config, "train.steps"); }),
            "--set expects KEY=VALUE, got 'train.steps'");
  EXPECT_EQ(error_of([&] { apply_override(config, "=3"); }),
            "--set expects KEY=VALUE, got '=3'");
  EXPECT_EQ(error_of([&] { apply_override(config, "a..b=3"); }),
            "--set expects KEY=VALUE, got 'a..b=3'");
  const std::string msg = error_of([&] { apply_override(config, "train.steps.x=3"); });
  EXPECT_NE(msg.find("'train.steps' is not an object"), std::string::npos) << msg;
  EXPECT_EQ(config, json::parse(R"({"train": {"steps": 1}})"));  // unchanged
}

// ---------------------------------------------------------------- files

TEST(LoadJsonFile, ReadsFile) {
  const std::string path = write_temp("dfb_test_config_ok.json", R"({"a": [1, 2], "b": "c"})");
  EXPECT_EQ(load_json_file(path), json::parse(R"({"a": [1, 2], "b": "c"})"));
}

TEST(LoadJsonFile, MissingFile) {
  const std::string path = testing::TempDir() + "dfb_test_config_does_not_exist.json";
  EXPECT_EQ(error_of([&] { load_json_file(path); }), "config file not found: " + path);
}

TEST(LoadJsonFile, SyntaxErrorHasLineAndColumn) {
  const std::string path =
      write_temp("dfb_test_config_bad.json", "{\n  \"a\": 1,\n  \"b\": tru\n}\n");
  const std::string msg = error_of([&] { load_json_file(path); });
  EXPECT_EQ(msg.rfind(path + ": invalid JSON at line 3, column ", 0), 0u) << msg;
  EXPECT_EQ(msg.find("[json.exception"), std::string::npos) << msg;

  const std::string trailing = write_temp("dfb_test_config_comma.json", "{\"a\": 1,\n}");
  EXPECT_EQ(error_of([&] { load_json_file(trailing); }).rfind(
                trailing + ": invalid JSON at line 2, column 1: ", 0),
            0u);

  const std::string comment = write_temp("dfb_test_config_comment.json", "// no\n{}");
  EXPECT_EQ(error_of([&] { load_json_file(comment); }).rfind(
                comment + ": invalid JSON at line 1, column 1: ", 0),
            0u);

  // A number too large for a double is a dfb::Error too (it escaped as nlohmann's out_of_range
  // until fuzz_config found it; the input is kept in tests/fuzz_cases/fuzz_config/).
  const std::string huge = write_temp("dfb_test_config_huge.json", "{\"lr\": -3333E33313}");
  EXPECT_EQ(error_of([&] { load_json_file(huge); }).rfind(huge + ": invalid JSON: ", 0), 0u);
}

}  // namespace
}  // namespace dfb
