#include "formats/curves_file.h"

#include <cstdio>
#include <sstream>

#include "base/error.h"
#include "base/files.h"

namespace dfb {

namespace {

std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

std::string number(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

// Splits one CSV line (fields may be quoted, with "" for a quote).
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"', ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

}  // namespace

std::string curves_csv_text(const std::vector<CurveRow>& rows) {
  std::string csv = std::string(kCurvesHeader) + "\n";
  for (const CurveRow& r : rows)
    csv += field(r.method) + "," + field(r.metric) + "," + std::to_string(r.t) + "," + number(r.mean) + "," +
           number(r.lo) + "," + number(r.hi) + "\n";
  return csv;
}

std::vector<CurveRow> read_curves_csv(const std::string& path) {
  std::istringstream csv(read_file(path));
  std::string line;
  std::getline(csv, line);
  if (line != kCurvesHeader) throw Error(path + ": the header must be " + std::string(kCurvesHeader));
  std::vector<CurveRow> rows;
  for (int64_t row = 2; std::getline(csv, line); ++row) {
    if (line.empty()) continue;
    const std::vector<std::string> f = fields(line);
    if (f.size() != 6) throw Error(path + ":" + std::to_string(row) + ": expected 6 fields, found " + std::to_string(f.size()));
    try {
      rows.push_back({f[0], f[1], std::stoll(f[2]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])});
    } catch (const std::exception&) {
      throw Error(path + ":" + std::to_string(row) + ": not a number in '" + line + "'");
    }
  }
  return rows;
}

}  // namespace dfb
