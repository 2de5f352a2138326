#include "tensor/op_profile.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

namespace dfb {
namespace {

using Clock = std::chrono::steady_clock;

int64_t product(const std::vector<int64_t>& s, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t p = 1;
  for (size_t i = from; i < std::min(to, s.size()); ++i) p *= s[i];
  return p;
}

// 2·M·N·K for a [.., M, K] x [.., K, N] product (the batch dims of `a` multiply).
double matmul_flops(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() < 2 || b.size() < 2) return 0;
  return 2.0 * static_cast<double>(product(a)) * static_cast<double>(b.back());
}

// The work of one attention: q [..., Lq, d], k [..., Lk, d]: q·kᵀ and the weights times v.
double attention_flops(const std::vector<int64_t>& q, const std::vector<int64_t>& k) {
  if (q.size() < 2 || k.size() < 2) return 0;
  return 4.0 * static_cast<double>(product(q)) * static_cast<double>(k[k.size() - 2]);
}

struct Frame {
  OpStat* stat;
  Clock::time_point start;
  double child_seconds = 0;
  bool counts_flops = false;
};

// The state of the profile running on this thread (null when none).
struct Session {
  std::map<std::string, OpStat> stats;
  std::vector<Frame> stack;
  std::vector<std::string> names;  // of the operators on `stack`
  bool by_caller = false;
  int flop_depth = 0;  // > 0 inside a counted operator: its nested ones are not counted again
};
thread_local Session* session = nullptr;

std::vector<int64_t> shape_of(const c10::IValue& v) {
  if (!v.isTensor()) return {};
  const at::Tensor& t = v.toTensor();
  if (!t.defined()) return {};
  return t.sizes().vec();
}

bool counted(const std::string& name) {
  static const char* kNames[] = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::convolution",
                                 "aten::convolution_backward", "aten::scaled_dot_product_attention"};
  for (const char* n : kNames)
    if (name == n) return true;
  return name.rfind("aten::_scaled_dot_product", 0) == 0 && name.find("backward") != std::string::npos;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  Session* s = session;
  if (!s) return nullptr;
  const std::string name = fn.name();
  const std::string key = s->by_caller && !s->names.empty() ? name + " < " + s->names.back() : name;
  OpStat& stat = s->stats[key];
  if (stat.name.empty()) stat.name = key;
  s->names.push_back(name);
  Frame f{&stat, Clock::now()};
  f.counts_flops = s->flop_depth == 0 && counted(name);
  if (f.counts_flops) ++s->flop_depth;
  s->stack.push_back(f);
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  Session* s = session;
  if (!s || s->stack.empty()) return;
  const Frame f = s->stack.back();
  s->stack.pop_back();
  s->names.pop_back();
  const double seconds = std::chrono::duration<double>(Clock::now() - f.start).count();
  ++f.stat->calls;
  f.stat->self_seconds += seconds - f.child_seconds;
  if (!s->stack.empty()) s->stack.back().child_seconds += seconds;
  if (f.counts_flops) {
    --s->flop_depth;
    std::vector<std::vector<int64_t>> in, out;
    for (const c10::IValue& v : fn.inputs()) in.push_back(shape_of(v));
    for (const c10::IValue& v : fn.outputs()) {
      if (v.isTuple()) {
        for (const c10::IValue& e : v.toTupleRef().elements()) out.push_back(shape_of(e));
      } else {
        out.push_back(shape_of(v));
      }
    }
    f.stat->flops += op_flops(fn.name(), in, out);
  }
}

}  // namespace

double op_flops(const std::string& name, const std::vector<std::vector<int64_t>>& in,
                const std::vector<std::vector<int64_t>>& out) {
  auto input = [&](size_t i) { return i < in.size() ? in[i] : std::vector<int64_t>{}; };
  auto output = [&](size_t i) { return i < out.size() ? out[i] : std::vector<int64_t>{}; };
  if (name == "aten::mm" || name == "aten::bmm") return matmul_flops(input(0), input(1));
  if (name == "aten::addmm" || name == "aten::baddbmm") return matmul_flops(input(1), input(2));
  if (name == "aten::convolution") {
    const std::vector<int64_t> w = input(1), y = output(0);
    if (w.size() < 3 || y.empty()) return 0;
    return 2.0 * static_cast<double>(product(y)) * static_cast<double>(product(w, 1));
  }
  if (name == "aten::convolution_backward") {  // (grad_output, input, weight, ...) -> (grad_input, grad_weight, grad_bias)
    const std::vector<int64_t> gy = input(0), w = input(2);
    if (w.size() < 3 || gy.empty()) return 0;
    const double one = 2.0 * static_cast<double>(product(gy)) * static_cast<double>(product(w, 1));
    return one * ((output(0).empty() ? 0 : 1) + (output(1).empty() ? 0 : 1));
  }
  if (name == "aten::scaled_dot_product_attention") return attention_flops(input(0), input(1));
  if (name.rfind("aten::_scaled_dot_product", 0) == 0 && name.find("backward") != std::string::npos)
    return 2.0 * attention_flops(input(1), input(2));  // (grad_out, q, k, v, ...)
  return 0;
}

OpProfile profile_ops(const std::function<void()>& work, bool by_caller) {
  Session s;
  s.by_caller = by_caller;
  session = &s;
  const at::CallbackHandle handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(on_start, on_end)
          .needsInputs(true)
          .needsOutputs(true)
          .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
  const auto t0 = Clock::now();
  try {
    work();
  } catch (...) {
    at::removeCallback(handle);
    session = nullptr;
    throw;
  }
  OpProfile p;
  p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  at::removeCallback(handle);
  session = nullptr;
  p.outside_seconds = p.seconds;
  for (auto& [name, stat] : s.stats) {
    p.flops += stat.flops;
    p.outside_seconds -= stat.self_seconds;
    p.ops.push_back(stat);
  }
  std::sort(p.ops.begin(), p.ops.end(), [](const OpStat& a, const OpStat& b) { return a.self_seconds > b.self_seconds; });
  return p;
}

std::string OpProfile::table(size_t n) const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%6s %8s %10s %10s  %s\n", "time%", "calls", "self ms", "GFLOP", "operator");
  out += line;
  for (size_t i = 0; i < std::min(n, ops.size()); ++i) {
    const OpStat& o = ops[i];
    std::snprintf(line, sizeof line, "%5.1f%% %8lld %10.2f %10.3f  %s\n", 100.0 * o.self_seconds / std::max(seconds, 1e-12),
                  static_cast<long long>(o.calls), 1e3 * o.self_seconds, o.flops / 1e9, o.name.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "%5.1f%% %8s %10.2f %10s  (outside any operator)\n",
                100.0 * outside_seconds / std::max(seconds, 1e-12), "", 1e3 * outside_seconds, "");
  out += line;
  return out;
}

}  // namespace dfb
