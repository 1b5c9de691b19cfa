/* margin.c - gpubill margin (being written). */
#include "common.h"

int cmd_margin(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_error("margin: not implemented yet");
	return EXIT_USAGE;
}
