#include "train/train_config.h"

#include <algorithm>
#include <cmath>

namespace dfb {

double learning_rate(const TrainConfig& t, int64_t step) {
  if (step < t.warmup) return t.lr * static_cast<double>(step + 1) / static_cast<double>(t.warmup);
  const double span = static_cast<double>(std::max<int64_t>(1, t.steps - t.warmup));
  const double progress = std::min(1.0, static_cast<double>(step - t.warmup) / span);
  const double cosine = 0.5 * (1 + std::cos(M_PI * progress));
  return t.lr * (t.min_lr_ratio + (1 - t.min_lr_ratio) * cosine);
}

}  // namespace dfb
