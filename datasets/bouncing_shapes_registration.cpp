// Registers bouncing_shapes as the procedural dataset "bouncing_shapes".
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
