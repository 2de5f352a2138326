// The dfbench binary: the command line of the library (cli/run_cli.h).
#include "cli/run_cli.h"

int main(int argc, char** argv) { return dfb::run_cli(argc, argv); }
