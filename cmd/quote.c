/* quote.c - gpubill quote (being written). */
#include "common.h"

int cmd_quote(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_error("quote: not implemented yet");
	return EXIT_USAGE;
}
