/* validate.c - gpubill validate (being written). */
#include "common.h"

int cmd_validate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_error("validate: not implemented yet");
	return EXIT_USAGE;
}
