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
// One escaping function per place a string from a config or a file lands (docs/reliability.md);
// every one of them also turns control characters into spaces (escape_html keeps newlines and tabs).
// & < > " ' as entities: safe in element text and in quoted attribute values (HTML and inline SVG).
std::string escape_html(const std::string& s);
// The characters LaTeX treats specially, escaped for text mode.
std::string escape_latex(const std::string& s);
// Markdown text (headings, image alt text, table cells): ASCII punctuation that is markup
// (\ ` * _ { } [ ] < > ( ) # ! | ~ &) backslash-escaped.
std::string escape_markdown(const std::string& s);
// A Markdown code span holding `s` literally (a fence longer than any backtick run in it; a
// pipe escaped, as GitHub's tables need even inside code).
std::string markdown_code(const std::string& s);
// A path segment for a Markdown link or a URL: every byte but A-Z a-z 0-9 - . _ ~ as %XX.
std::string percent_encode(const std::string& s);
// One word for a POSIX shell: single-quoted, a quote inside written '\''.
std::string shell_quote(const std::string& s);
// A gnuplot string literal of `s`: single-quoted, so gnuplot neither expands backslashes nor
// runs `backquoted` shell commands in it (it does in double quotes), a quote doubled.
std::string gnuplot_string(const std::string& s);
// Text for gnuplot's enhanced mode (titles, keys, labels): its markup characters
// _ ^ @ & { } ~ \ escaped, to go inside gnuplot_string().
std::string gnuplot_text(const std::string& s);

}  // namespace dfb
