// Text for reports: numbers and intervals as the tables print them, and escaping for HTML
// (element text and attribute values) and LaTeX. The one place report strings are escaped.
#pragma once
#include <string>

#include "metrics/curves.h"

namespace dfb {

// Three significant figures or so: "0.583", "2.38", "12.4", "118"; "–" when not finite.
std::string format_number(double x);
// "0.67 [0.55, 0.79]"; the mean alone when the interval is undefined; "–" without a mean.
std::string format_interval(const Interval& v);
// & < > " ' as entities: safe in element text and in quoted attribute values.
std::string escape_html(const std::string& s);
// The characters LaTeX treats specially, escaped for text mode.
std::string escape_latex(const std::string& s);

}  // namespace dfb
