// Stopping long work cleanly on a signal (see stop_signal.h).
#include "base/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace dfb {
namespace {

std::atomic<int> g_signal{0};
bool g_consumed = false;
int g_depth = 0;
struct sigaction g_old_usr1, g_old_term;

void on_signal(int sig) {
  if (g_signal.load() != 0) _exit(128 + sig);  // asked twice: do not wait for the step to end
  g_signal.store(sig);
}

}  // namespace

StopSignalScope::StopSignalScope() {
  if (g_depth++ > 0) return;
  g_signal.store(0);
  g_consumed = false;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;  // other threads' blocking calls (the data reader, sockets) go on
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &g_old_usr1);
  sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignalScope::~StopSignalScope() {
  if (--g_depth > 0) return;
  sigaction(SIGUSR1, &g_old_usr1, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  const int sig = g_signal.exchange(0);
  if (sig != 0 && !g_consumed) raise(sig);
}

void consume_stop_request() { g_consumed = true; }

bool stop_requested() { return g_signal.load() != 0; }

std::string stop_signal_name() {
  switch (g_signal.load()) {
    case 0: return "";
    case SIGUSR1: return "SIGUSR1";
    case SIGTERM: return "SIGTERM";
    default: return "signal " + std::to_string(g_signal.load());
  }
}

}  // namespace dfb
