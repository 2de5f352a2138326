// Numbers and escaping for reports (see text.h).
#include "reports/text.h"

#include <cmath>
#include <cstdio>

namespace dfb {

std::string format_number(double x) {
  if (!std::isfinite(x)) return "–";
  char b[32];
  const double a = std::fabs(x);
  std::snprintf(b, sizeof b, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 0.1 ? "%.2f" : "%.3g", x);
  return b;
}

std::string format_interval(const Interval& v) {
  if (!std::isfinite(v.mean)) return "–";
  std::string s = format_number(v.mean);
  if (std::isfinite(v.lo) && std::isfinite(v.hi)) s += " [" + format_number(v.lo) + ", " + format_number(v.hi) + "]";
  return s;
}

std::string escape_html(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  return o;
}

std::string escape_latex(const std::string& s) {
  std::string o;
  for (char c : s) switch (c) {
      case '_': case '%': case '&': case '#': case '$': case '{': case '}': o += '\\'; o += c; break;
      case '\\': o += "\\textbackslash{}"; break;
      case '^': o += "\\textasciicircum{}"; break;
      case '~': o += "\\textasciitilde{}"; break;
      default: o += c;
    }
  return o;
}

}  // namespace dfb
