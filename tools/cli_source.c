#include <stdio.h>
#include "tools/cli_source.h"
#include "tools/cli_util.h"
#ifdef CF_NET
#include "tools/remote.h"
#endif

bool cli_source_opt(struct cli_source *s, int c, const char *arg)
{
	switch (c - CLI_SOURCE_OPT) {
	case 's': s->server = arg; return true;
	case 't': s->token = arg; return true;
	case 'T': s->token_file = arg; return true;
	case 'C': s->cacert = arg; return true;
	}
	return false;
}

int cli_load_profile_from(const char *cmd, const struct cli_source *s,
			  const char *spec, struct cf_profile **out,
			  char *name, size_t nlen, int *version)
{
	if (name && nlen)
		name[0] = '\0';
	if (version)
		*version = 0;
	if (!s->server)
		return cli_load_profile(cmd, spec, out);
#ifdef CF_NET
	{
		struct remote_opts ro = { s->server, s->token, s->token_file,
					  s->cacert, 0 };
		return remote_load_profile(cmd, &ro, spec, out, name, nlen,
					   version);
	}
#else
	*out = NULL;
	cli_error(cmd, "--server: this build has no network client (NET=0)");
	return CLI_USAGE;
#endif
}
