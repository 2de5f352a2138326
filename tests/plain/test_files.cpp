// Tests for base/files: atomic writes and the removal of temporaries that killed writers left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/files.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

TEST(Files, AtomicWriteLeavesOnlyTheFile) {
  const fs::path dir = fs::temp_directory_path() / "dfb_files_atomic";
  fs::remove_all(dir);
  make_dirs(dir.string());
  write_file_atomic((dir / "a.json").string(), "first");
  write_file_atomic((dir / "a.json").string(), "second");
  EXPECT_EQ(read_file((dir / "a.json").string()), "second");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += (void(e), 1);
  EXPECT_EQ(entries, 1);
}

// A temporary is removed when its writer is gone, a zombie included (a killed writer whose
// new parent never reaps it); it stays while its writer runs, and for this process's own.
TEST(Files, StaleTemporariesOfDeadAndZombieWritersAreRemoved) {
  const fs::path dir = fs::temp_directory_path() / "dfb_files_stale";
  fs::remove_all(dir);
  make_dirs((dir / "sub").string());

  const pid_t zombie = fork();
  ASSERT_GE(zombie, 0);
  if (zombie == 0) _exit(0);
  const pid_t live = fork();
  ASSERT_GE(live, 0);
  if (live == 0) {
    pause();
    _exit(0);
  }
  const pid_t reaped = fork();
  ASSERT_GE(reaped, 0);
  if (reaped == 0) _exit(0);
  ASSERT_EQ(waitpid(reaped, nullptr, 0), reaped);
  // Wait until the zombie is one (it has exited but is not reaped).
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(zombie) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') break;
    usleep(1000);
  }

  touch(dir / ("a.h5.tmp-" + std::to_string(zombie)));
  touch(dir / "sub" / ("outcome.json.tmp-" + std::to_string(reaped)));
  touch(dir / ("b.json.tmp-" + std::to_string(live)));
  touch(dir / ("c.json.tmp-" + std::to_string(getpid())));
  touch(dir / "d.json.tmp-notapid");
  touch(dir / "e.json");

  EXPECT_EQ(remove_stale_temporaries(dir.string()), 2);
  EXPECT_FALSE(fs::exists(dir / ("a.h5.tmp-" + std::to_string(zombie))));
  EXPECT_FALSE(fs::exists(dir / "sub" / ("outcome.json.tmp-" + std::to_string(reaped))));
  EXPECT_TRUE(fs::exists(dir / ("b.json.tmp-" + std::to_string(live))));
  EXPECT_TRUE(fs::exists(dir / ("c.json.tmp-" + std::to_string(getpid()))));
  EXPECT_TRUE(fs::exists(dir / "d.json.tmp-notapid"));
  EXPECT_TRUE(fs::exists(dir / "e.json"));
  EXPECT_EQ(remove_stale_temporaries((dir / "missing").string()), 0);

  kill(live, SIGKILL);
  waitpid(live, nullptr, 0);
  waitpid(zombie, nullptr, 0);
  EXPECT_EQ(remove_stale_temporaries(dir.string()), 1);
  fs::remove_all(dir);
}

}  // namespace
// Writing a file again removes the temporaries of that file that dead writers of this machine
// left (a writer killed by SIGKILL never reaches its cleanup), and only those.
TEST(Files, WritingAFileRemovesItsOwnStaleTemporaries) {
  const fs::path dir = fs::temp_directory_path() / "dfb_files_stale_of";
  fs::remove_all(dir);
  make_dirs(dir.string());
  const pid_t dead = fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) _exit(0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  const std::string d = std::to_string(dead);
  // This machine's name as temporary_path() writes it, with the dead writer's PID.
  const std::string mine = temporary_path("a.json"), here = mine.substr(mine.find('@'));
  for (const std::string& name : {"a.json.tmp-" + d, "a.json.tmp-" + d + here, "a.json.tmp-" + d + "@elsewhere",
                                  "a.json.x.tmp-" + d, "b.json.tmp-" + d, "xa.json.tmp-" + d})
    std::ofstream(dir / name) << "half";
  write_file_atomic((dir / "a.json").string(), "{}");
  EXPECT_FALSE(fs::exists(dir / ("a.json.tmp-" + d)));
  EXPECT_FALSE(fs::exists(dir / ("a.json.tmp-" + d + here)));
  EXPECT_TRUE(fs::exists(dir / ("a.json.tmp-" + d + "@elsewhere"))) << "another machine's writer may be at work";
  EXPECT_TRUE(fs::exists(dir / ("a.json.x.tmp-" + d)));
  EXPECT_TRUE(fs::exists(dir / ("b.json.tmp-" + d)));
  EXPECT_TRUE(fs::exists(dir / ("xa.json.tmp-" + d)));
  EXPECT_EQ(read_file((dir / "a.json").string()), "{}");
  EXPECT_EQ(remove_stale_temporaries_of((dir / "b.json").string()), 1);
  fs::remove_all(dir);
}

}  // namespace dfb
