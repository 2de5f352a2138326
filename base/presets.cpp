#include "base/presets.h"

#include "base/error.h"
#include "base/suggest.h"

namespace dfb {

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : embedded_presets()) names.emplace_back(p.name);
  return names;
}

std::string preset_json(const std::string& name) {
  for (const Preset& p : embedded_presets())
    if (name == p.name) return p.json;
  throw Error(unknown_name_message("preset", name, preset_names()));
}

}  // namespace dfb
