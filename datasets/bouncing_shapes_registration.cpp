// Registers bouncing_shapes as the procedural dataset "bouncing_shapes".
#include <utility>

#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "datasets/bouncing_shapes.h"
#include "datasets/dataset_registry.h"

namespace dfb {
namespace {

Clips make(JsonReader& r, int64_t count, int64_t length, uint64_t seed, const std::string& /*split: procedural*/) {
  BouncingShapesOptions o;
  r.get("size", o.size)
      .get("objects", o.objects)
      .get("radius_min", o.radius_min)
      .get("radius_max", o.radius_max)
      .get("speed_min", o.speed_min)
      .get("speed_max", o.speed_max)
      .get("squares", o.squares);
  // The memory benchmark's options (docs/design.md §5.1), recorded in a resolved config only where
  // given, so configs without them read as before.
  if (r.has("colors")) r.get_choice("colors", o.colors, {"fixed", "random"});
  if (r.has("memory")) r.get_choice("memory", o.memory, {"none", "blackout", "occluder"});
  for (const auto& [key, value] : {std::pair<const char*, int*>{"gap_min", &o.gap_min}, {"gap_max", &o.gap_max},
                                   {"gap_start_min", &o.gap_start_min}, {"gap_start_max", &o.gap_start_max},
                                   {"occluder_x", &o.occluder_x}, {"occluder_width", &o.occluder_width},
                                   {"hidden_value", &o.hidden_value}})
    if (r.has(key)) r.get(key, *value);
  if (r.has("gap_share")) r.get("gap_share", o.gap_share);
  r.finish();
  try {
    validate(o);
  } catch (const Error& e) {
    r.check(false, "", e.what());
    return {};
  }
  if (!r.errors().empty()) return {};
  return generate_bouncing_shapes(o, count, length, seed);
}

Registrar<DatasetFactory> reg("bouncing_shapes",
                              "discs and squares bouncing off the walls, with true states (procedural)",
                              DatasetFactory{&make});

}  // namespace
}  // namespace dfb
