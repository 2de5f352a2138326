// The report's verdict: the pairwise table read from metrics.json's comparisons, and the
// sentence it supports (a winner named only where every interval of P excludes ½); labels
// escaped wherever they reach HTML or LaTeX.
#include <gtest/gtest.h>

#include "reports/summary_table.h"
#include "reports/gate.h"
#include "reports/memory_section.h"
#include "reports/pairwise_table.h"
#include "reports/report_data.h"
#include "reports/text.h"

namespace dfb {
namespace {

ReportData three_methods(Interval ab, Interval ac, Interval bc) {
  ReportData d;
  d.sets = {"a", "b", "c<script>", "truth"};
  MetricComparison& m = d.comparisons["oracle_valid"];
  m.higher_is_better = true;
  m.pairs = {{"a", "b", "8", ab, 0}, {"a", "c<script>", "8", ac, 0}, {"b", "c<script>", "8", bc, 0},
             {"a", "b", "within", {0.5, 0.4, 0.6}, 0}};
  for (const char* s : {"a", "b", "c<script>"}) m.stats[s]["8"] = WindowStats{};
  return d;
}

TEST(Verdict, NamesAWinnerOnlyWhereEveryIntervalExcludesOneHalf) {
  ReportData d = three_methods({0.8, 0.7, 0.9}, {0.9, 0.85, 0.95}, {0.55, 0.4, 0.7});
  ASSERT_EQ(verdict_metric(d), "oracle_valid");
  ASSERT_EQ(largest_window(d, "oracle_valid"), "8");
  auto t = pairwise_table(d, "oracle_valid", "8");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->methods, (std::vector<std::string>{"a", "b", "c<script>"}));
  // The lower triangle is the complement: P(b better than a) = 1 − P(a better than b).
  ASSERT_TRUE(t->p[1][0]);
  EXPECT_DOUBLE_EQ(t->p[1][0]->mean, 1 - 0.8);
  EXPECT_DOUBLE_EQ(t->p[1][0]->lo, 1 - 0.9);
  EXPECT_DOUBLE_EQ(t->p[1][0]->hi, 1 - 0.7);
  EXPECT_FALSE(t->p[0][0]);
  const std::string s = verdict_sentence(*t);
  EXPECT_NE(s.find("a is better than every other method (the closest, b: P = 0.80 [0.70, 0.90])"), std::string::npos) << s;

  // a against b now holds ½: no winner; the detectable differences and the rest are listed.
  d = three_methods({0.6, 0.45, 0.75}, {0.9, 0.85, 0.95}, {0.2, 0.1, 0.3});
  t = pairwise_table(d, "oracle_valid", "8");
  const std::string u = verdict_sentence(*t);
  EXPECT_NE(u.find("no method is detectably better than all others"), std::string::npos) << u;
  EXPECT_NE(u.find("a > c<script> (P = 0.90 [0.85, 0.95])"), std::string::npos) << u;
  EXPECT_NE(u.find("c<script> > b (P = 0.80 [0.70, 0.90])"), std::string::npos) << u;
  EXPECT_NE(u.find("No detectable difference: a vs b."), std::string::npos) << u;

  // Every interval holds ½.
  d = three_methods({0.6, 0.45, 0.75}, {0.5, 0.3, 0.7}, {0.4, 0.2, 0.6});
  EXPECT_NE(verdict_sentence(*pairwise_table(d, "oracle_valid", "8")).find("no detectable difference between any two"),
            std::string::npos);
  EXPECT_FALSE(pairwise_table(d, "oracle_valid", "4"));  // no such window
  EXPECT_FALSE(pairwise_table(d, "ssim", "8"));
}

TEST(Verdict, LabelsAreEscapedInEveryFormat) {
  const ReportData d = three_methods({0.8, 0.7, 0.9}, {0.9, 0.85, 0.95}, {0.55, 0.4, 0.7});
  const auto t = pairwise_table(d, "oracle_valid", "8");
  const std::string html = pairwise_html(*t);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("c&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("class=\"win\""), std::string::npos);
  EXPECT_NE(pairwise_latex(*t).find("a & b"), std::string::npos);
  EXPECT_EQ(escape_html("\"x\" & 'y'"), "&quot;x&quot; &amp; &#39;y&#39;");
  EXPECT_EQ(escape_latex("a_b 50% {x}"), "a\\_b 50\\% \\{x\\}");
}

// One escaping function per context, each against what that context needs (docs/reliability.md).
TEST(Escaping, EachContextGetsItsOwnEscape) {
  // HTML: entities; newlines kept, other control characters gone.
  EXPECT_EQ(escape_html("<a href=\"x\">'&'\n\x01"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;\n ");
  EXPECT_EQ(escape_latex("<x>\\^~\n"), "\\textless{}x\\textgreater{}\\textbackslash{}\\textasciicircum{}\\textasciitilde{} ");
  // Markdown text: markup punctuation backslash-escaped, a newline cannot end the line.
  EXPECT_EQ(escape_markdown("a_b *c* [d](e) <f> | #g\n"), "a\\_b \\*c\\* \\[d\\]\\(e\\) \\<f\\> \\| \\#g ");
  // Code spans: a fence longer than any backtick run, padded where the text starts with one.
  EXPECT_EQ(markdown_code("plain"), "`plain`");
  EXPECT_EQ(markdown_code("a``b"), "```a``b```");
  EXPECT_EQ(markdown_code("`x"), "`` `x ``");
  EXPECT_EQ(markdown_code("a|b"), "`a\\|b`");
  EXPECT_EQ(percent_encode("a b/%.png"), "a%20b%2F%25.png");
  // gnuplot: single quotes (no backquote command substitution, no backslash escapes), '' for '.
  EXPECT_EQ(gnuplot_string("it's `rm x`\n"), "'it''s `rm x` '");
  EXPECT_EQ(gnuplot_text("a_b^{c}@&~\\"), "a\\_b\\^\\{c\\}\\@\\&\\~\\\\");
}

MetricCurves::Summaries within(double v) {
  MetricCurves::Summaries s;
  s.within = {v, v, v};
  return s;
}

TEST(Gate, AnUndertrainedMethodIsMarkedAndKeptOutOfTheVerdict) {
  ReportData d = three_methods({0.8, 0.7, 0.9}, {0.1, 0.05, 0.2}, {0.55, 0.4, 0.7});
  // c would win every comparison it is in, but it was trained a few steps: 0.1 valid against the truth's 0.9.
  d.summaries["oracle_valid"] = {{"a", within(0.85)}, {"b", within(0.70)}, {"c<script>", within(0.1)}, {"truth", within(0.9)}};
  const auto gate = fair_opponent_gate(d);
  ASSERT_EQ(gate.size(), 3u);
  EXPECT_TRUE(gate.at("a").pass);
  EXPECT_FALSE(gate.at("b").pass);  // 0.70 < 0.8 × 0.9
  EXPECT_FALSE(gate.at("c<script>").pass);
  EXPECT_DOUBLE_EQ(gate.at("c<script>").threshold, 0.8 * 0.9);
  EXPECT_EQ(below_gate(gate), (std::set<std::string>{"b", "c<script>"}));
  const std::string g = gate_sentence(gate);
  EXPECT_NE(g.find("c<script> (oracle_valid within T_train 0.10 < 0.72 = 0.80 × the truth's 0.90)"), std::string::npos) << g;
  // Without the undertrained methods a is alone: no pair is left to rank, and the headline says so.
  EXPECT_FALSE(pairwise_table(d, "oracle_valid", "8", below_gate(gate)));
  d.metric_info["oracle_valid"] = {{"better", "higher"}};
  d.t_train = d.length = 8;  // no multiple of T_train: the headline reads the values within it
  const std::string alone = headline(d, below_gate(gate));
  EXPECT_NE(alone.find("Only a passes the fair-opponent gate"), std::string::npos) << alone;
  EXPECT_EQ(alone.find("holds up best"), std::string::npos) << alone;
  // With only c kept out, a and b are compared, and c appears nowhere in the sentence.
  const auto u = pairwise_table(d, "oracle_valid", "8", {"c<script>"});
  EXPECT_EQ(u->methods, (std::vector<std::string>{"a", "b"}));
  const std::string s = verdict_sentence(*u);
  EXPECT_NE(s.find("a is better than every other method"), std::string::npos) << s;
  EXPECT_EQ(s.find("c<script>"), std::string::npos) << s;
  // No oracle: fd_self within a factor of the truth's (lower is better); several runs judge against their own truth.
  ReportData f;
  f.summaries["fd_self"] = {{"r1/a", within(3.0)}, {"r1/truth", within(1.6)}, {"r2/a", within(3.0)}, {"r2/truth", within(1.4)}};
  const auto h = fair_opponent_gate(f);
  EXPECT_TRUE(h.at("r1/a").pass);   // 3.0 <= 3.2
  EXPECT_FALSE(h.at("r2/a").pass);  // 3.0 > 2.8
}

TrainingRun validated(const std::vector<std::pair<int64_t, double>>& points) {
  TrainingRun r;
  for (const auto& [step, v] : points) r.validation.push_back({step, {{"oracle_valid", v}, {"loss", 0.01}}});
  return r;
}

TEST(Gate, BelowItTheValidationSaysWhetherTheMethodWasStillImproving) {
  const double m = GateOptions{}.trend_margin;
  int64_t peak = 0;
  // Rising: the last mean is 0.3 above the one nearest half the final step.
  EXPECT_EQ(validation_trend({validated({{200, .3}, {400, .5}, {600, .6}, {800, .7}, {1000, .8}})}, m),
            ValidationTrend::kRising);
  // Fell from its peak at 600 (0.65) to 0.55.
  EXPECT_EQ(validation_trend({validated({{200, .2}, {400, .6}, {600, .65}, {800, .6}, {1000, .55}})}, m, &peak),
            ValidationTrend::kFalling);
  EXPECT_EQ(peak, 600);
  // Flat: within the margin of the midpoint and of the peak.
  EXPECT_EQ(validation_trend({validated({{200, .2}, {400, .6}, {600, .62}, {800, .61}, {1000, .63}})}, m, &peak),
            ValidationTrend::kFlat);
  EXPECT_EQ(peak, 1000);
  // The mean over seeds, at the steps every seed logged: seed 2's step 1000 is missing, so the curve
  // ends at 800, where the mean (0.7 + 0.5) / 2 = 0.6 is flat against 400's (0.6 + 0.6) / 2.
  EXPECT_EQ(validation_trend({validated({{200, .2}, {400, .6}, {600, .6}, {800, .7}, {1000, .9}}),
                              validated({{200, .2}, {400, .6}, {600, .6}, {800, .5}})},
                             m),
            ValidationTrend::kFlat);
  EXPECT_EQ(validation_trend({validated({{500, .2}, {1000, .9}})}, m), ValidationTrend::kUnknown) << "too few points";
  EXPECT_EQ(validation_trend({}, m), ValidationTrend::kUnknown);

  // In the gate: the status and the headline's sentence carry the trend.
  ReportData d;
  d.summaries["oracle_valid"] = {{"a", within(0.6)}, {"b", within(0.6)}, {"c", within(0.9)}, {"truth", within(0.9)}};
  d.training["a"] = {validated({{200, .2}, {400, .4}, {600, .5}, {800, .6}, {1000, .7}})};
  d.training["b"] = {validated({{200, .2}, {400, .6}, {600, .65}, {800, .6}, {1000, .55}})};
  const auto gate = fair_opponent_gate(d);
  EXPECT_EQ(gate_status(gate.at("a")), "undertrained: validation still rising");
  EXPECT_EQ(gate_status(gate.at("b")), "below the gate: validation fell from its peak at step 600");
  EXPECT_EQ(gate_status(gate.at("c")), "passes");
  const std::string g = gate_sentence(gate);
  EXPECT_NE(g.find("b (oracle_valid within T_train 0.60 < 0.72 = 0.80 × the truth's 0.90; validation fell from its "
                   "peak at step 600)"),
            std::string::npos)
      << g;
}

// The memory section's findings: windowed models blind from their window on; and when nobody
// beats chance even at the smallest gap, the sweep says it measured no memory at all.
TEST(MemoryFindings, SayWhenNoMethodRemembersEvenInsideTheWindow) {
  auto method = [](int64_t window, double hi) {
    return nlohmann::json{{"window", window},
                          {"sink", 0},
                          {"horizon", {{"mean", 0}, {"lo", 0}, {"hi", hi}}},
                          {"gaps", nlohmann::json::array({{{"gap", 4}}, {{"gap", 8}}})}};
  };
  nlohmann::json memory = {{"horizon_margin", 0.1},
                           {"methods", {{"windowed", method(8, 0)}, {"recurrent", method(0, 0)}, {"truth", method(-1, 8)}}}};
  auto joined = [](const std::vector<std::string>& lines) {
    std::string all;
    for (const std::string& l : lines) all += l + "\n";
    return all;
  };
  std::string text = joined(memory_findings(memory));
  EXPECT_NE(text.find("windowed sees a window of frames: from G = 8 on"), std::string::npos) << text;
  EXPECT_NE(text.find("even at the smallest gap, G = 4, where every window still holds frames from before the gap"),
            std::string::npos)
      << text;
  memory["methods"]["recurrent"]["horizon"]["hi"] = 4;  // one might remember up to G = 4
  text = joined(memory_findings(memory));
  EXPECT_EQ(text.find("even at the smallest gap"), std::string::npos) << text;
  EXPECT_NE(text.find("No method remembers the objects' colours beyond that point"), std::string::npos) << text;
}

}  // namespace
}  // namespace dfb
