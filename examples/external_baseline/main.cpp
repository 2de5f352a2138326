// The full dfbench CLI plus the baselines linked beside it (their files register them).
#include "cli/run_cli.h"

int main(int argc, char** argv) { return dfb::run_cli(argc, argv); }
