#include "cli.h"

int main(int argc, char** argv) { return outpost::RunCli(argc, argv); }
