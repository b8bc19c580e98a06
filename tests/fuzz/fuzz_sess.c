/*
 * libFuzzer harness: arbitrary bytes as a milter stream from an MTA
 * through the packet splitter and the session state machine, with the
 * sanity stage and a verdict at every end of message; every packet also
 * goes through the MTA side's reply decoder.
 */
#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"
#include "pipeline.h"
#include "proto.h"
#include "scan.h"
#include "sess.h"
#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf *conf;
	if (conf == NULL) {
		char err[512];
		conf = conf_load_string("max_message_size = \"4k\"\n"
		                        "stages = { \"sanity\" }", "fuzz", err,
		                        sizeof err);
		if (conf == NULL)
			abort();
	}
	struct sess *s = sess_new("fuzz");
	struct evbuffer *out = evbuffer_new();
	size_t off = 0;
	while (off < size) {
		struct proto_pkt pkt;
		size_t used;
		if (proto_split(data + off, size - off, 1u << 20, &pkt, &used) !=
		    PROTO_OK)
			break;
		off += used;
		struct proto_reply reply;
		if (proto_dec_reply(&pkt, &reply) == PROTO_OK &&
		    reply.cmd == SMFIC_OPTNEG) {
			uint32_t stage;
			struct proto_str list;
			while (proto_optneg_macros_next(&reply, &stage, &list))
				;
		}
		enum sess_status st = sess_input(s, conf, &pkt, out);
		if (st == SESS_CLOSE)
			break;
		if (st == SESS_EOM) {
			struct conf *c = NULL;
			struct scan *scan = sess_take_scan(s, &c);
			const char *failed = NULL;
			struct verdict v;
			pipeline_run(c->pipeline, scan, &failed);
			if (verdict_decide(c, scan, failed, sess_can_delrcpt(s), &v) == 0)
				sess_eom_reply(s, sess_msg_id(s), scan, &v, "fuzz", out);
			verdict_free(&v);
			scan_free(scan);
			conf_unref(c);
		}
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	evbuffer_free(out);
	sess_free(s);
	return 0;
}
