// The comparison as Slurm jobs (see slurm.h).
#include "pipeline/slurm.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/error.h"
#include "base/files.h"
#include "pipeline/child_jobs.h"
#include "reports/text.h"

namespace dfb {
namespace fs = std::filesystem;

namespace {

std::string command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + shell_quote(w);
  return line;
}

// The program, its thread count from Slurm (a global option: before the subcommand), the rest.
std::string dfbench_line(const std::vector<std::string>& command) {
  return shell_quote(command.at(0)) + " --threads \"${SLURM_CPUS_PER_TASK:-1}\" " +
         command_line(std::vector<std::string>(command.begin() + 1, command.end()));
}

std::string index_list(const std::vector<SlurmTask>& tasks, bool waits) {
  std::string list;
  for (const SlurmTask& t : tasks)
    if (t.waits == waits) list += (list.empty() ? "" : ",") + std::to_string(t.index);
  return list;
}

std::string header(const std::string& name, const std::string& log, const SlurmOptions& o) {
  std::string h = "#!/bin/bash\n#SBATCH --job-name=" + name + "\n#SBATCH --output=" + log +
                  "\n#SBATCH --open-mode=append\n";
  if (!o.partition.empty()) h += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty()) h += "#SBATCH --account=" + o.account + "\n";
  if (!o.time.empty()) h += "#SBATCH --time=" + o.time + "\n";
  if (o.cpus_per_task > 0) h += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_task) + "\n";
  if (o.gpus_per_task > 0) h += "#SBATCH --gpus-per-task=" + std::to_string(o.gpus_per_task) + "\n";
  return h;
}

// A task script: the batch shell passes SIGUSR1 (sent before the time limit) and SIGTERM on to
// dfbench, which checkpoints and exits 75; the task then requeues itself.
std::string task_script(const std::string& run, const std::string& name, const std::string& indices,
                        const std::vector<std::string>& command, const SlurmOptions& o) {
  std::string s = header(name, run + "/slurm/logs/task-%a.log", o);
  s += "#SBATCH --array=" + indices + (o.array_parallelism > 0 ? "%" + std::to_string(o.array_parallelism) : "") + "\n";
  s += "#SBATCH --requeue\n#SBATCH --signal=B:USR1@" + std::to_string(o.signal_seconds) + "\n";
  s += "# Written by dfbench reproduce --slurm: manifest line $SLURM_ARRAY_TASK_ID of " + run +
       "/slurm/manifest.tsv.\n";
  s += "# A training stopped by a signal exits 75 with its checkpoint written; near its time limit the task\n"
       "# requeues itself whatever stage it was in (a stage resumes by its key).\n";
  s += "echo \"== task $SLURM_ARRAY_TASK_ID on $(hostname), job ${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID, "
       "$(date -u +%FT%TZ)\"\n";
  s += dfbench_line(command) + " --jobs 1 --task \"$SLURM_ARRAY_TASK_ID\" &\n";
  s += "child=$!\nrequeue=0\n";
  s += "# The time limit is near (SIGUSR1 to this shell only): stop dfbench, then requeue the task.\n";
  s += "trap 'requeue=1; kill -USR1 \"$child\" 2>/dev/null' USR1\n";
  s += "# scancel or preemption: Slurm signals dfbench itself; this shell only waits for it.\n";
  s += "trap ':' TERM\n";
  s += "while :; do wait \"$child\"; rc=$?; kill -0 \"$child\" 2>/dev/null || break; done\n";
  s += "if [ \"$rc\" -ne 0 ] && [ \"$requeue\" -eq 1 ]; then\n  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID\"\nfi\n";
  s += "exit \"$rc\"\n";
  return s;
}

std::string final_script(const std::string& run, const std::string& name, const std::vector<std::string>& command,
                         const SlurmOptions& o) {
  std::string s = header(name, run + "/slurm/logs/final.log", o);
  s += "# Written by dfbench reproduce --slurm: every task is done; evaluate them together and write the report.\n";
  s += "echo \"== final on $(hostname), job $SLURM_JOB_ID, $(date -u +%FT%TZ)\"\n";
  s += "exec " + dfbench_line(command) + " --jobs 1\n";
  return s;
}

// Runs sbatch; its job id (--parsable prints "ID" or "ID;CLUSTER").
std::string sbatch(const SlurmOptions& o, const std::vector<std::string>& args) {
  const CapturedRun r = run_captured(o.sbatch, args, 120);
  const std::string out = tail_of(r.output, 1);
  if (r.exit_code != 0)
    throw Error("sbatch failed (" + (r.timed_out ? std::string("no answer in 120 s") : "exit " + std::to_string(r.exit_code)) +
                "): " + (out.empty() ? "no output" : out) + (r.exit_code == 127 ? " (is Slurm's sbatch on PATH?)" : ""));
  const std::string id = out.substr(0, out.find(';'));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error("sbatch printed '" + out + "', not a job id");
  return id;
}

// Words that go into #SBATCH lines and comments unquoted: no whitespace, control characters or
// '%' (sbatch's filename patterns); the run folder also not.
void check_word(const std::string& what, const std::string& value, const std::string& allowed_extra) {
  for (const unsigned char c : value)
    if (!(std::isalnum(c) || allowed_extra.find(static_cast<char>(c)) != std::string::npos))
      throw Error("--slurm: " + what + " '" + value + "' holds '" + std::string(1, static_cast<char>(c)) +
                  "'; it goes into #SBATCH lines, so only letters, digits and '" + allowed_extra + "' are allowed");
}

}  // namespace

SlurmSubmission submit_slurm(const std::string& run, const std::vector<SlurmTask>& tasks,
                             const std::vector<std::string>& command, const SlurmOptions& o) {
  if (tasks.empty()) throw Error("--slurm: no method to run");
  const std::string dir = fs::absolute(run).lexically_normal().string();
  check_word("the run folder", dir, "/._-+,:=@");
  check_word("--partition", o.partition, "._-,");
  check_word("--account", o.account, "._-");
  check_word("--time", o.time, ":-");
  make_dirs(dir + "/slurm/logs");
  SlurmSubmission s;
  s.manifest = dir + "/slurm/manifest.tsv";
  std::string m = "# task\tmethod\tseed_index\tfolder\ttrain_key\twaits_for_another_task\n";
  for (const SlurmTask& t : tasks)
    m += std::to_string(t.index) + "\t" + t.label + "\t" + std::to_string(t.seed_index) + "\t" + t.dir + "\t" +
         t.train_key + "\t" + (t.waits ? "1" : "0") + "\n";
  write_file_atomic(s.manifest, m);
  const std::string name = "dfbench-" + fs::path(dir).filename().string();  // checked with the folder
  const std::string first = index_list(tasks, false), second = index_list(tasks, true);
  s.scripts.push_back(dir + "/slurm/tasks.sbatch");
  write_file_atomic(s.scripts.back(), task_script(dir, name, first, command, o));
  if (!second.empty()) {
    s.scripts.push_back(dir + "/slurm/tasks-2.sbatch");
    write_file_atomic(s.scripts.back(), task_script(dir, name, second, command, o));
  }
  s.scripts.push_back(dir + "/slurm/final.sbatch");
  write_file_atomic(s.scripts.back(), final_script(dir, name + "-final", command, o));

  // Tasks, then (when some sample another's model) the second array after the first, then the
  // final job after all of them.
  std::vector<std::string> ids;
  for (size_t k = 0; k < s.scripts.size(); ++k) {
    std::vector<std::string> args = {"--parsable"};
    std::string after, shown_after;  // the printed line names the earlier jobs by shell variable
    if (k > 0) {
      const bool final = k + 1 == s.scripts.size();
      for (size_t j = 0; j < (final ? k : 1); ++j) {
        if (!o.dry_run) after += ":" + ids[j];
        shown_after += ":$JOB" + std::to_string(j + 1);
      }
      args.push_back("--dependency=afterok" + after);
    }
    args.push_back(s.scripts[k]);
    std::string line = "JOB" + std::to_string(k + 1) + "=$(" + shell_quote(o.sbatch) + " --parsable";
    if (k > 0) line += " \"--dependency=afterok" + shown_after + "\"";
    s.commands.push_back(line + " " + shell_quote(s.scripts[k]) + ")");
    if (!o.dry_run) ids.push_back(sbatch(o, args));
  }
  s.job_ids = ids;
  return s;
}

std::vector<SlurmTask> read_manifest(const std::string& run) {
  const std::string path = run + "/slurm/manifest.tsv";
  if (!fs::exists(path)) throw Error("no such file: " + path + " (write it with dfbench reproduce --slurm [--dry-run])");
  std::istringstream in(read_file(path));
  std::vector<SlurmTask> tasks;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream cells(line);
    for (std::string c; std::getline(cells, c, '\t');) f.push_back(c);
    SlurmTask t;
    try {
      if (f.size() != 6) throw std::invalid_argument("fields");
      t.index = std::stoll(f[0]);
      t.label = f[1];
      t.seed_index = std::stoll(f[2]);
      t.dir = f[3];
      t.train_key = f[4];
      t.waits = f[5] == "1";
    } catch (const std::exception&) {
      throw Error(path + ":" + std::to_string(line_no) +
                  ": expected 6 tab-separated fields: task, method, seed_index, folder, train_key, waits");
    }
    tasks.push_back(t);
  }
  return tasks;
}

std::string format_run_status(const std::string& run, double stale_minutes) {
  const std::vector<SlurmTask> tasks = read_manifest(run);
  const auto now = fs::file_time_type::clock::now();
  auto minutes_since = [&](const std::string& f) {
    return std::chrono::duration<double>(now - fs::last_write_time(f)).count() / 60.0;
  };
  // A log's state: done when `finished` exists, else failed on an error line, stale when quiet
  // for too long, else running; pending without a log.
  auto state = [&](const std::string& log, bool finished, std::string* detail) -> std::string {
    if (finished) return "done";
    if (!fs::exists(log)) return "pending";
    const std::string tail = tail_lines(log, 3);
    if (tail.find("DUE TO JOB REQUEUE") != std::string::npos || tail_lines(log, 1).rfind("dfbench: stopped:", 0) == 0) {
      *detail = tail;  // a training stopped with its checkpoint: requeued or to be submitted again
      return "stopped";
    }
    if (tail.find("dfbench: error:") != std::string::npos || tail.find("slurmstepd") != std::string::npos ||
        tail.find("CANCELLED") != std::string::npos) {
      *detail = tail;
      return "failed";
    }
    const double quiet = minutes_since(log);
    if (quiet > stale_minutes) {
      *detail = "no output for " + std::to_string(static_cast<int>(quiet)) + " min; last: " + tail_lines(log, 1);
      return "stale";
    }
    *detail = tail_lines(log, 1);
    return "running";
  };
  std::ostringstream o;
  std::map<std::string, int> counts;
  for (const SlurmTask& t : tasks) {
    std::string detail;
    const std::string log = run + "/slurm/logs/task-" + std::to_string(t.index) + ".log";
    const std::string st = state(log, fs::exists(run + "/" + t.dir + "/outcome.json"), &detail);
    ++counts[st];
    char head[160];
    std::snprintf(head, sizeof head, "task %-3lld %-8s %s%s", static_cast<long long>(t.index), st.c_str(),
                  t.label.c_str(), t.seed_index > 0 ? (" seed " + std::to_string(t.seed_index)).c_str() : "");
    o << head << "\n";
    if (!detail.empty() && st != "done") {
      std::istringstream lines(detail);
      for (std::string l; std::getline(lines, l);) o << "           | " << l << "\n";
    }
  }
  std::string detail;
  const std::string fin =
      state(run + "/slurm/logs/final.log", fs::exists(run + "/report/index.html") && fs::exists(run + "/slurm/logs/final.log") &&
                                               tail_lines(run + "/slurm/logs/final.log", 1).find(": done in") != std::string::npos,
            &detail);
  o << "final    " << fin << " (evaluation and report)\n";
  if (!detail.empty() && fin != "done") o << "           | " << detail << "\n";
  std::string summary;
  for (const auto& [k, n] : counts) summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  o << tasks.size() << " task(s): " << summary << "\n";
  return o.str();
}

}  // namespace dfb
