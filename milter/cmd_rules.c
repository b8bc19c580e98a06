/* vigil rules — placeholder until the subcommands land. */
#include <stdio.h>

#include "cmd.h"

int cmd_rules(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vigil rules: not implemented yet\n");
	return 2;
}
