// The report's "Training" section (docs/metrics.md, "Training curves and compute"): per
// method what its training cost (steps, clips a step, frames, FLOPs, wall time: the mean over
// its seeds) and where it ended (the last interval's loss, the last validation scores), so a
// reader can tell an undertrained method from a weak one. Torch-free.
#pragma once
#include <string>

#include "reports/report_data.h"
#include "reports/summary_table.h"

namespace dfb {

// A row per method with training runs; empty rows when no method has any.
SummaryTable training_table(const ReportData& data);

// "4.2 TFLOP", "512 GFLOP", ...; "–" for NaN.
std::string format_flops(double flops);
// "9m41s", "1h02m", "48s".
std::string format_duration(double seconds);

}  // namespace dfb
