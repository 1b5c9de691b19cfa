/* explain.c - gpubill explain (being written). */
#include "common.h"

int cmd_explain(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_error("explain: not implemented yet");
	return EXIT_USAGE;
}
