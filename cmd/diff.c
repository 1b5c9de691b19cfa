/* diff.c - gpubill diff (being written). */
#include "common.h"

int cmd_diff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_error("diff: not implemented yet");
	return EXIT_USAGE;
}
