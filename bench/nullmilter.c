/*
 * nullmilter — the smallest useful libmilter milter: accepts every message
 * and adds one header, "X-Null: 1". It is the baseline of the milter
 * protocol benchmark (bench/milter-bench.sh) and the stand-in milter of the
 * MTA integration tests when vigild is not built.
 *
 *   nullmilter -p SOCKET [-T SECONDS]
 *
 * SOCKET is in libmilter syntax (inet:PORT@127.0.0.1, unix:/path).
 * Runs in the foreground until SIGINT/SIGTERM (libmilter handles them).
 */
#include <libmilter/mfapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sfsistat null_eom(SMFICTX *ctx)
{
	if (smfi_addheader(ctx, "X-Null", "1") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
}

/*
 * libmilter asks the MTA not to send the stages that have no callback
 * (SMFIP_NO* flags). Every stage gets a trivial callback so that the
 * milter receives the full envelope, headers and body, as vigild does:
 * the benchmark then compares protocol handling, not skipped traffic.
 */
static sfsistat null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx; (void)host; (void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat null_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx; (void)helo;
	return SMFIS_CONTINUE;
}

static sfsistat null_envelope(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat null_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return SMFIS_CONTINUE;
}

static sfsistat null_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx; (void)chunk; (void)len;
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = null_connect,
	.xxfi_helo = null_helo,
	.xxfi_envfrom = null_envelope,
	.xxfi_envrcpt = null_envelope,
	.xxfi_header = null_header,
	.xxfi_eoh = null_ctx,
	.xxfi_body = null_body,
	.xxfi_eom = null_eom,
	.xxfi_abort = null_ctx,
	.xxfi_close = null_ctx,
};

static void usage(void)
{
	fprintf(stderr, "usage: nullmilter -p SOCKET [-T TIMEOUT]\n");
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int timeout = -1;
	int opt;

	while ((opt = getopt(argc, argv, "p:T:")) != -1) {
		switch (opt) {
		case 'p':
			sock = optarg;
			break;
		case 'T':
			timeout = atoi(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (sock == NULL || optind != argc) {
		usage();
		return 2;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    (timeout > 0 && smfi_settimeout(timeout) == MI_FAILURE) ||
	    smfi_register(null_desc) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot set up %s\n", sock);
		return 1;
	}
	/* Remove a stale unix socket left by an earlier run. */
	if (smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot open %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
