// Numbers and escaping for reports (see text.h).
#include "reports/text.h"

#include <cmath>
#include <algorithm>
#include <cctype>
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

namespace {
bool control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
}  // namespace

std::string escape_html(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      case '\n': case '\t': o += c; break;  // harmless in HTML; multi-line notes keep their lines
      default: o += control(c) ? ' ' : c;
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
      case '<': o += "\\textless{}"; break;
      case '>': o += "\\textgreater{}"; break;
      default: o += control(c) ? ' ' : c;
    }
  return o;
}

std::string escape_markdown(const std::string& s) {
  static const std::string markup = "\\`*_{}[]<>()#!|~&";
  std::string o;
  for (char c : s) {
    if (markup.find(c) != std::string::npos) o += '\\';
    o += control(c) ? ' ' : c;
  }
  return o;
}

std::string markdown_code(const std::string& s) {
  std::string body;
  size_t run = 0, longest = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    if (c == '|') body += '\\';
    body += control(c) ? ' ' : c;
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string percent_encode(const std::string& s) {
  static const char* const hex = "0123456789ABCDEF";
  std::string o;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      o += ch;
    } else {
      o += '%';
      o += hex[c >> 4];
      o += hex[c & 15];
    }
  }
  return o;
}

std::string gnuplot_string(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("''") : std::string(1, control(c) ? ' ' : c);
  return o + "'";
}

std::string gnuplot_text(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '_' || c == '^' || c == '@' || c == '&' || c == '{' || c == '}' || c == '~' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace dfb
