/*
 * libFuzzer harness for the milter codec alone (milter/proto.c): arbitrary
 * bytes are split into packets, and every packet's data goes through every
 * decoder of both sides (the command byte is set to what each decoder
 * expects, so each one parses every payload). What decodes is encoded
 * again and must decode to the same fields; encoders also get the decoded
 * strings as untrusted input (header values, reply texts).
 */
#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STRS 64

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool same(const struct proto_str *a, const struct proto_str *b)
{
	return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0 &&
	       a->ptr[a->len] == '\0' && b->ptr[b->len] == '\0';
}

/* The one packet in buffer b, copied to a fresh allocation (*mem, freed by
 * the caller) so that ASan sees reads past its end. */
static struct proto_pkt take_packet(struct evbuffer *b, unsigned char **mem)
{
	size_t len = evbuffer_get_length(b);
	*mem = malloc(len);
	check(*mem != NULL);
	evbuffer_remove(b, *mem, len);
	struct proto_pkt pkt;
	size_t used;
	check(proto_split(*mem, len, PROTO_MAX_PACKET_DEFAULT, &pkt, &used) ==
	      PROTO_OK && used == len);
	return pkt;
}

static struct proto_pkt as(const struct proto_pkt *p, char cmd)
{
	struct proto_pkt q = *p;
	q.cmd = cmd;
	return q;
}

/* Collect at most MAX_STRS strings of an iterator; returns the count. */
static size_t collect(struct proto_strs *it, struct proto_str *out)
{
	size_t n = 0;
	while (n < MAX_STRS && proto_strs_next(it, &out[n]))
		n++;
	return n;
}

static void macro_round_trip(const struct proto_pkt *p, struct evbuffer *b)
{
	char stage;
	struct proto_strs it;
	struct proto_str s[MAX_STRS];
	if (proto_dec_macro(p, &stage, &it) != PROTO_OK)
		return;
	size_t n = collect(&it, s) & ~(size_t)1;
	const char *names[MAX_STRS / 2], *values[MAX_STRS / 2];
	bool named = true;
	for (size_t i = 0; i < n / 2; i++) {
		names[i] = s[2 * i].ptr;
		values[i] = s[2 * i + 1].ptr;
		named = named && s[2 * i].len > 0;
	}
	/* the decoder passes empty names on; the encoder refuses them */
	int rc = proto_enc_cmd_macro(b, stage, n / 2, names, values);
	check(named ? rc == 0 : rc == -1 && evbuffer_get_length(b) == 0);
	if (rc != 0)
		return;
	unsigned char *mem;
	struct proto_pkt q = take_packet(b, &mem);
	char stage2;
	struct proto_strs it2;
	struct proto_str t;
	check(proto_dec_macro(&q, &stage2, &it2) == PROTO_OK && stage2 == stage);
	for (size_t i = 0; i < n; i++)
		check(proto_strs_next(&it2, &t) && same(&t, &s[i]));
	free(mem);
}

static void connect_round_trip(const struct proto_pkt *p, struct evbuffer *b)
{
	struct proto_connect c, c2;
	if (proto_dec_connect(p, &c) != PROTO_OK)
		return;
	check(proto_enc_cmd_connect(b, c.host.ptr, c.family, c.port,
	                            c.addr.ptr) == 0);
	unsigned char *mem;
	struct proto_pkt q = take_packet(b, &mem);
	check(proto_dec_connect(&q, &c2) == PROTO_OK);
	check(same(&c.host, &c2.host) && c.family == c2.family &&
	      c.port == c2.port && same(&c.addr, &c2.addr));
	free(mem);
}

static void envelope_round_trip(const struct proto_pkt *p, struct evbuffer *b)
{
	struct proto_strs it;
	struct proto_str s[MAX_STRS], t;
	if (proto_dec_envelope(p, &it) != PROTO_OK)
		return;
	size_t n = collect(&it, s);
	if (n == 0)
		return;
	const char *args[MAX_STRS];
	for (size_t i = 0; i < n; i++)
		args[i] = s[i].ptr;
	check(proto_enc_cmd_envelope(b, p->cmd, n, args) == 0);
	unsigned char *mem;
	struct proto_pkt q = take_packet(b, &mem);
	check(proto_dec_envelope(&q, &it) == PROTO_OK);
	for (size_t i = 0; i < n; i++)
		check(proto_strs_next(&it, &t) && same(&t, &s[i]));
	free(mem);
}

/* A decoded header, back through the MTA-side encoder and, as untrusted
 * text, through the filter-side header edits and reply codes. */
static void header_paths(const struct proto_pkt *p, struct evbuffer *b)
{
	struct proto_str name, value, n2, v2;
	if (proto_dec_header(p, &name, &value) != PROTO_OK)
		return;
	check(proto_enc_cmd_header(b, name.ptr, value.ptr) == 0);
	unsigned char *mem;
	struct proto_pkt q = take_packet(b, &mem);
	check(proto_dec_header(&q, &n2, &v2) == PROTO_OK);
	check(same(&name, &n2) && same(&value, &v2));
	free(mem);

	if (proto_enc_insheader(b, 1, name.ptr, value.ptr) == 0) {
		struct proto_reply r;
		q = take_packet(b, &mem);
		check(proto_dec_reply(&q, &r) == PROTO_OK);
		check(r.index == 1 && same(&r.name, &name));
		/* a value never carries a line break that is not folding */
		for (size_t i = 0; i < r.value.len; i++)
			check(r.value.ptr[i] != '\r' &&
			      (r.value.ptr[i] != '\n' ||
			       (i + 1 < r.value.len && (r.value.ptr[i + 1] == ' ' ||
			                                r.value.ptr[i + 1] == '\t'))));
		free(mem);
	}
	check(evbuffer_get_length(b) == 0);
	if (proto_enc_replycode(b, "550", "5.7.1", value.ptr) == 0) {
		struct proto_reply r;
		q = take_packet(b, &mem);
		check(proto_dec_reply(&q, &r) == PROTO_OK);
		check(r.text.len >= 4 && memcmp(r.text.ptr, "550", 3) == 0);
		free(mem);
	}
	check(evbuffer_get_length(b) == 0);
}

/* Every decoder on the same data. */
static void decode_all(const struct proto_pkt *p, struct evbuffer *b)
{
	struct proto_optneg o, r;
	struct proto_str s;
	struct proto_pkt q = as(p, SMFIC_OPTNEG);
	if (proto_dec_optneg(&q, &o) == PROTO_OK &&
	    proto_negotiate(&o, 0xffffffffu, 0xffffffffu, &r) == 0)
		check((r.actions & ~o.actions) == 0 &&
		      (r.protocol & ~o.protocol) == 0 && r.version <= o.version &&
		      r.version <= PROTO_VERSION);
	q = as(p, SMFIC_MACRO);
	macro_round_trip(&q, b);
	q = as(p, SMFIC_CONNECT);
	connect_round_trip(&q, b);
	q = as(p, SMFIC_HELO);
	(void)proto_dec_helo(&q, &s);
	q = as(p, SMFIC_UNKNOWN);
	(void)proto_dec_unknown(&q, &s);
	q = as(p, SMFIC_MAIL);
	envelope_round_trip(&q, b);
	q = as(p, SMFIC_RCPT);
	envelope_round_trip(&q, b);
	q = as(p, SMFIC_HEADER);
	header_paths(&q, b);

	/* MTA side: the packet as a reply, and as an OPTNEG reply. */
	struct proto_reply rep;
	(void)proto_dec_reply(p, &rep);
	(void)proto_cmd_name(p->cmd);
	(void)proto_reply_name(p->cmd);
	q = as(p, SMFIC_OPTNEG);
	if (proto_dec_reply(&q, &rep) == PROTO_OK) {
		uint32_t stage;
		struct proto_str list;
		while (proto_optneg_macros_next(&rep, &stage, &list))
			check(list.ptr[list.len] == '\0');
	}
	check(evbuffer_get_length(b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *b = evbuffer_new();
	check(b != NULL);
	size_t off = 0;
	while (off < size) {
		struct proto_pkt pkt;
		size_t used;
		/* 64 KiB: small enough that oversized lengths are exercised */
		enum proto_status st = proto_split(data + off, size - off,
		                                   1u << 16, &pkt, &used);
		if (st != PROTO_OK)
			break;
		check(used >= 5 && used <= size - off);
		/* one byte less is always an incomplete packet */
		struct proto_pkt tmp;
		size_t u2;
		check(proto_split(data + off, used - 1, 1u << 16, &tmp, &u2) ==
		      PROTO_NEED_MORE);
		/* give the decoders their own allocation, exact size */
		unsigned char *copy = malloc(pkt.len ? pkt.len : 1);
		check(copy != NULL);
		memcpy(copy, pkt.data, pkt.len);
		pkt.data = copy;
		decode_all(&pkt, b);
		free(copy);
		off += used;
	}
	evbuffer_free(b);
	return 0;
}
