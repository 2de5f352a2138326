#include "base/json_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include "base/error.h"
#include "base/files.h"
#include "base/suggest.h"

namespace dfb {

using nlohmann::json;

// ---------------------------------------------------------------- ConfigErrors

void ConfigErrors::add(const std::string& path, const std::string& message) {
  lines_.push_back(path.empty() ? message : path + ": " + message);
}

void ConfigErrors::throw_if_any(const std::string& source) const {
  if (lines_.empty()) return;
  const std::string prefix = source.empty() ? "" : source + ": ";
  if (lines_.size() == 1) throw Error(prefix + lines_[0]);
  std::string message = prefix + std::to_string(lines_.size()) + " config errors:";
  for (const std::string& line : lines_) message += "\n  " + line;
  throw Error(message);
}

// ---------------------------------------------------------------- conversions

namespace {

// The shared empty object that absent or invalid children read from. A static
// (rather than a member) so that copies of a JsonReader never point at a dead object.
const json& empty_object() {
  static const json empty = json::object();
  return empty;
}

// The value as it would appear in the file, shortened for error messages.
std::string show(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

void type_error(ConfigErrors& errors, const std::string& path, const std::string& expected,
                const json& found) {
  errors.add(path, "expected " + expected + ", found " + show(found));
}

template <class Int>
bool convert_integer(const json& v, const std::string& path, ConfigErrors& errors, Int& out) {
  if (!v.is_number_integer()) {
    type_error(errors, path, std::is_signed_v<Int> ? "an integer" : "a non-negative integer", v);
    return false;
  }
  bool in_range;
  if (v.is_number_unsigned()) {
    in_range = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max());
  } else {
    const std::int64_t i = v.get<std::int64_t>();
    if (std::is_unsigned_v<Int>) {
      in_range = i >= 0;
    } else {
      in_range = i >= static_cast<std::int64_t>(std::numeric_limits<Int>::min()) &&
                 i <= static_cast<std::int64_t>(std::numeric_limits<Int>::max());
    }
  }
  if (!in_range) {
    if (std::is_unsigned_v<Int>) {
      type_error(errors, path, "a non-negative integer", v);
    } else {
      type_error(errors, path,
                 "an integer from " + std::to_string(std::numeric_limits<Int>::min()) + " to " +
                     std::to_string(std::numeric_limits<Int>::max()),
                 v);
    }
    return false;
  }
  out = v.get<Int>();
  return true;
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, bool& out) {
  if (!v.is_boolean()) {
    type_error(errors, path, "a boolean", v);
    return false;
  }
  out = v.get<bool>();
  return true;
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, int& out) {
  return convert_integer(v, path, errors, out);
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, std::int64_t& out) {
  return convert_integer(v, path, errors, out);
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, std::uint64_t& out) {
  return convert_integer(v, path, errors, out);
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, double& out) {
  if (!v.is_number()) {
    type_error(errors, path, "a number", v);
    return false;
  }
  out = v.get<double>();
  return true;
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, float& out) {
  if (!v.is_number()) {
    type_error(errors, path, "a number", v);
    return false;
  }
  const double d = v.get<double>();
  if (std::fabs(d) > std::numeric_limits<float>::max()) {
    type_error(errors, path, "a number in float range", v);
    return false;
  }
  out = static_cast<float>(d);
  return true;
}

bool convert(const json& v, const std::string& path, ConfigErrors& errors, std::string& out) {
  if (!v.is_string()) {
    type_error(errors, path, "a string", v);
    return false;
  }
  out = v.get<std::string>();
  return true;
}

bool convert(const json& v, const std::string&, ConfigErrors&, json& out) {
  out = v;
  return true;
}

const char* array_name(int*) { return "an array of integers"; }
const char* array_name(std::int64_t*) { return "an array of integers"; }
const char* array_name(double*) { return "an array of numbers"; }
const char* array_name(std::string*) { return "an array of strings"; }

// Every bad element is reported (as "path[i]: ..."); `out` changes only when all are valid.
template <class T>
bool convert(const json& v, const std::string& path, ConfigErrors& errors, std::vector<T>& out) {
  if (!v.is_array()) {
    type_error(errors, path, array_name(static_cast<T*>(nullptr)), v);
    return false;
  }
  std::vector<T> result(v.size());
  bool ok = true;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    ok = convert(v[i], element_path, errors, result[i]) && ok;
  }
  if (ok) out = std::move(result);
  return ok;
}

}  // namespace

// ---------------------------------------------------------------- JsonReader

JsonReader::JsonReader(const json& value, std::string path, ConfigErrors& errors)
    : json_(&value), path_(std::move(path)), errors_(&errors) {}

std::string JsonReader::path_of(const char* key) const {
  if (key == nullptr || *key == '\0') return path_;
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

JsonReader& JsonReader::sampling_time() {
  if (!last_key_.empty() &&
      std::find(sampling_keys_.begin(), sampling_keys_.end(), last_key_) == sampling_keys_.end())
    sampling_keys_.push_back(last_key_);
  return *this;
}

void JsonReader::mark_asked(const char* key) {
  last_key_ = key;
  if (std::find(asked_.begin(), asked_.end(), key) == asked_.end()) asked_.emplace_back(key);
}

const json* JsonReader::find(const char* key) const {
  if (!json_->is_object()) return nullptr;
  auto it = json_->find(key);
  return it == json_->end() ? nullptr : &*it;
}

bool JsonReader::has(const char* key) const { return find(key) != nullptr; }

void JsonReader::accept(const char* key) {
  mark_asked(key);
  if (resolved_)
    if (const json* value = find(key)) (*resolved_)[key] = *value;
}

template <class T>
JsonReader& JsonReader::get(const char* key, T& out) {
  mark_asked(key);
  if (const json* value = find(key)) convert(*value, path_of(key), *errors_, out);
  if (resolved_) (*resolved_)[key] = out;
  return *this;
}

template <class T>
JsonReader& JsonReader::required(const char* key, T& out) {
  // A non-object is reported by finish(); only an object can lack a key.
  if (json_->is_object() && !has(key)) {
    mark_asked(key);
    errors_->add(path_of(key), "missing required key");
    if (resolved_) (*resolved_)[key] = out;
    return *this;
  }
  return get(key, out);
}

JsonReader& JsonReader::get_choice(const char* key, std::string& out,
                                   const std::vector<std::string>& choices) {
  mark_asked(key);
  const json* value = find(key);
  std::string text;
  if (value != nullptr && convert(*value, path_of(key), *errors_, text)) {
    if (std::find(choices.begin(), choices.end(), text) == choices.end())
      errors_->add(path_of(key), unknown_name_message("value", text, choices));
    else
      out = text;
  }
  if (resolved_) (*resolved_)[key] = out;
  return *this;
}

JsonReader JsonReader::child(const char* key) {
  mark_asked(key);
  const json* value = find(key);
  if (value != nullptr && !value->is_object()) {
    type_error(*errors_, path_of(key), "an object", *value);
    value = nullptr;
  }
  JsonReader reader(value ? *value : empty_object(), path_of(key), *errors_);
  if (resolved_) {
    json& slot = (*resolved_)[key];
    if (!slot.is_object()) slot = json::object();
    reader.record_into(slot);
  }
  return reader;
}

JsonReader& JsonReader::record_into(json& resolved) {
  if (!resolved.is_object()) resolved = json::object();
  resolved_ = &resolved;
  return *this;
}

bool JsonReader::check(bool ok, const char* key, const std::string& message) {
  if (!ok) errors_->add(path_of(key), message);
  return ok;
}

void JsonReader::finish() {
  if (finished_) return;
  finished_ = true;
  if (!json_->is_object()) {
    type_error(*errors_, path_, "an object", *json_);
    return;
  }
  for (auto it = json_->begin(); it != json_->end(); ++it) {
    const std::string& key = it.key();
    if (std::find(asked_.begin(), asked_.end(), key) != asked_.end()) continue;
    const std::string best = closest_match(key, asked_);
    std::string message = "unknown key";
    if (!best.empty()) {
      message += ", did you mean '" + best + "'?";
    } else if (asked_.empty()) {
      message += " (no keys are expected here)";
    } else {
      message += " (known: ";
      for (std::size_t i = 0; i < asked_.size(); ++i) message += (i ? ", " : "") + asked_[i];
      message += ")";
    }
    errors_->add(path_of(key.c_str()), message);
  }
}

// Explicit instantiations: exactly the types listed in the header.
#define DFB_JSON_READER_INSTANTIATE(T)                              \
  template JsonReader& JsonReader::get<T>(const char*, T&);         \
  template JsonReader& JsonReader::required<T>(const char*, T&);

DFB_JSON_READER_INSTANTIATE(bool)
DFB_JSON_READER_INSTANTIATE(int)
DFB_JSON_READER_INSTANTIATE(std::int64_t)
DFB_JSON_READER_INSTANTIATE(std::uint64_t)
DFB_JSON_READER_INSTANTIATE(double)
DFB_JSON_READER_INSTANTIATE(float)
DFB_JSON_READER_INSTANTIATE(std::string)
DFB_JSON_READER_INSTANTIATE(std::vector<int>)
DFB_JSON_READER_INSTANTIATE(std::vector<std::int64_t>)
DFB_JSON_READER_INSTANTIATE(std::vector<double>)
DFB_JSON_READER_INSTANTIATE(std::vector<std::string>)
DFB_JSON_READER_INSTANTIATE(nlohmann::json)

#undef DFB_JSON_READER_INSTANTIATE

// ---------------------------------------------------------------- files and overrides

namespace {

// The part of nlohmann's parse_error message after its "parse error at ...:" prefix.
std::string short_reason(const json::parse_error& e) {
  std::string what = e.what();
  std::size_t colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

json load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("config file not found: " + path);
  check_text_file_size(path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error("cannot read config file: " + path);
  const std::string text = buffer.str();
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // e.byte counts the characters read, so the offending one is at index e.byte - 1.
    const std::size_t index = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < index; ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    const std::size_t column = index - line_start + 1;
    throw Error(path + ": invalid JSON at line " + std::to_string(line) + ", column " +
                std::to_string(column) + ": " + short_reason(e));
  } catch (const json::exception& e) {  // e.g. a number too large for a double (found by fuzz_config)
    throw Error(path + ": invalid JSON: " + std::string(e.what()));
  }
}

void apply_override(json& config, const std::string& assignment) {
  const std::string usage = "--set expects KEY=VALUE, got '" + assignment + "'";
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw Error(usage);
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);

  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (parts.back().empty()) throw Error(usage);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }

  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;

  if (config.is_null()) config = json::object();
  if (!config.is_object()) throw Error("--set " + key + ": the config is not a JSON object");
  json* node = &config;
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i ? "." : "") + parts[i];
    auto it = node->find(parts[i]);
    if (it == node->end()) {
      node = &((*node)[parts[i]] = json::object());
    } else if (it->is_object()) {
      node = &*it;
    } else {
      throw Error("--set " + key + ": '" + walked + "' is not an object (found " + show(*it) + ")");
    }
  }
  (*node)[parts.back()] = std::move(value);
}

}  // namespace dfb
