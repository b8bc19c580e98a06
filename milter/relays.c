/*
 * relays.c — Received: header parsing and trust (SpamAssassin
 * semantics, see relays.h).
 *
 * A Received: value is normalised (blanks collapsed, trailing ";" and the
 * date removed), then the envelope facts that can appear anywhere (id,
 * HELO, "by", authentication) are picked out, then the value is matched
 * against the known MTA formats in SpamAssassin's order of preference
 * (the first that matches decides). The formats live in one table: a
 * guard, a pattern and which capture gives which field.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "relays.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "netset.h"
#include "strbuf.h"
#include "trustpath.h"

/* ---- address patterns (IPv4 exact; IPv6 by shape) ---- */
#define O "(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)"
#define V4 O "\\." O "\\." O "\\." O
/* IPv6 in any case: SpamAssassin reads "[2001:DB8::25]" too */
#define IP6 "(?i:(?:IPv6:|(?<![a-f0-9:]))(?:(?:[a-f0-9]{0,4}:){2,6}" V4 \
	"|(?=[a-f0-9]*:[a-f0-9]*:)[a-f0-9:]{2,39}))"
#define IP "(?:\\b(?<!:)" V4 "\\b|" IP6 ")"
#define LH "(?:localhost(?:\\.localdomain)?|\\b(?<!:)127\\.0\\.0\\.1\\b|" \
	"(?:IPv6:|(?<![a-f0-9:]))(?:0{0,4}:){2,7}(?:0{0,3}1|ffff:127\\.0\\.0\\.1))"
#define S "\\S"

/* Fields of a relay. */
enum fld { F_IP, F_RDNS, F_HELO, F_BY, F_IDENT, F_ENVFROM, F_ID, F_AUTH,
	   F_COUNT };
#define FLD_MAX 512

/* What a format entry does once it matched. */
enum act {
	A_RELAY = 0,    /* enough: a relay */
	A_SKIP,         /* deliberately ignored handover */
	A_FETCH,        /* POP/IMAP fetcher marker: skipped, restarts trust */
	A_QMS,          /* qmail-scanner: skipped, envfrom for the next one */
};
enum { X_HELO_RDNS = 1, X_IDENT_AT = 2, X_SENDMAIL_IDENT = 4,
       X_SOFTDNS = 8, X_CLEAR_ID = 16, X_HOTMAIL = 32, X_SUB = 64,
       X_UNVERIFIED = 128,
       /* SpamAssassin's $mta_looked_up_dns: the MTA looked the address up
        * (so an empty rDNS means there is none); _LC/_UC: unless the
        * rDNS slot says "unknown" / "UNKNOWN" */
       X_DNS = 256, X_DNS_LC = 512, X_DNS_UC = 1024 };

/* Sections: the mutually exclusive MTA families tried first (the first
 * whose guard matches is the only one tried), then the general list. */
enum sect { SEC_SMTPSVC, SEC_MSSMTP, SEC_XMAIL, SEC_ECEL, SEC_EXIM,
	    SEC_POSTFIX, SEC_SCALIX, SEC_DOMINO, SEC_MAIN, SEC_FROMUC,
	    SEC_PFROM, SEC_COUNT };

struct fmt {
	enum sect sect;
	const char *guard;      /* must match first (NULL: none) */
	bool guard_not;         /* ... or must not match */
	const char *re;         /* NULL: the guard alone decides */
	enum act act;
	/* capture groups giving fields (0: none); sub: "helo=.. ident=.." */
	signed char ip, helo, rdns, by, ident, id, sub;
	unsigned x;
};

static const char *const sect_guard[SEC_MAIN] = {
	" SMTPSVC",
	(" with (?:Microsoft SMTP Server|mapi id) (?:\\([^\\)]+\\) )?"
	 "\\d+\\.\\d+\\.\\d+\\.\\d+(?:$| )"),
	"\\[XMail ",
	"\\(ecelerity\\b",
	"Exim",
	" \\(Postfix\\) with",
	"\\(Scalix SMTP Relay",
	" \\(Lotus Domino ",
};

#define QMAIL_G "^" S "+( \\((?:HELO|EHLO) " S "*\\))? \\((" S "+\\@)?\\[?" \
	IP "\\]?\\)( \\(envelope-sender <" S "+>\\))? by " S "+( \\(.+\\))* " \
	"with (.* )?(SMTP|QMQP)(?! id )"
#define ENVS "( \\(envelope-sender <" S "+>\\))?"

static const struct fmt fmts[] = {
	/* Microsoft SMTPSVC (no rDNS lookup) */
	{ SEC_SMTPSVC, NULL, 0, "^(" S "*) \\(\\[(" IP ")\\][^\\)]{0,40}\\) by (" S
	  "+) with Microsoft SMTPSVC", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_SMTPSVC, NULL, 0, "^mail pickup service by " S "+ with Microsoft "
	  "SMTPSVC$", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	/* Microsoft SMTP Server / Exchange */
	{ SEC_MSSMTP, NULL, 0, "^(" S "+) \\(\\[?(" IP ")(?:%[A-Z0-9._~-]*)?\\]?\\)"
	  " by (" S "+) ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, X_CLEAR_ID },
	/* XMail */
	{ SEC_XMAIL, NULL, 0, "^(" S "+) \\((\\[?" IP "\\]?)(?::\\d+)\\) by (" S
	  "+)(?: \\(" S "+\\))? with \\[XMail", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	/* ecelerity */
	{ SEC_ECEL, NULL, 0, "^\\(\\[(" IP "):\\d+\\] helo=(" S "+)\\) by (" S
	  "+) ", A_RELAY, 1, 2, 0, 3, 0, 0, 0, 0 },
	{ SEC_ECEL, NULL, 0, "^" S "+ \\(\\[(" IP "):\\d+\\]\\) by (" S "+) ",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	/* Exim */
	{ SEC_EXIM, NULL, 0, "\\bwith local(?:-" S "+)? ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_EXIM, NULL, 0, "^\\[(" IP ")\\] \\((.*?)\\) by (" S "+) ", A_RELAY,
	  1, 0, 0, 3, 0, 0, 2, X_SUB },
	{ SEC_EXIM, NULL, 0, "^(" S "+) \\(\\[(" IP ")\\](.*?)\\) by (" S "+) ",
	  A_RELAY, 2, 1, 1, 4, 0, 0, 3, X_SUB },
	{ SEC_EXIM, NULL, 0, "^(" S "+) \\[(" IP ")\\](:\\d+)? by (" S "+) ",
	  A_RELAY, 2, 1, 1, 4, 0, 0, 0, 0 },
	/* Postfix */
	{ SEC_POSTFIX, NULL, 0, "^(" S "+) \\((" S "+) \\[(" IP ")\\]\\) by (" S
	  "+) ", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_POSTFIX, NULL, 0, "^(" S "+) \\((" S "+)\\[(" IP ")\\]\\) by (" S
	  "+) ", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_SCALIX, NULL, 0, "^(" S "+) \\( ?(" IP ")\\) by (" S "+)", A_RELAY,
	  2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_DOMINO, NULL, 0, "^(" S "+) \\(\\[(" IP ")\\]\\) by (" S
	  "+) \\(Lotus", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },

	/* ---- general list, in order of preference ---- */
	{ SEC_MAIN, "\\bwith HTTP\\b", 0, "^(" IP ") \\(\\[" IP "\\]\\) by (" S
	  "+)", A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	/* sendmail, unless it is qmail-ldap */
	{ SEC_MAIN, " by " S "+ \\(qmail-" S "+\\) with ", 1, "^(" S "+) \\((" S
	  "+) \\[(" IP ")\\].*\\) by (" S "+) \\(", A_RELAY, 3, 1, 2, 4, 0, 0, 0,
	  X_SENDMAIL_IDENT | X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+) \\[(" IP ")\\]\\) by (" S
	  "+) with " S "+ \\(", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(\\[(" IP ")\\] helo=(" S "+)\\) by ("
	  S "+) with ", A_RELAY, 2, 3, 1, 4, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(<unknown" S "*>\\[(" IP ")\\]\\) by ("
	  S "+) ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+\\." S "+)\\[(" IP ")\\]\\) by ("
	  S "+) ", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "*)\\@\\[(" IP ")\\].*\\) by (" S
	  "+) \\(", A_RELAY, 3, 1, 0, 4, 2, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "by (" S "+\\.hotmail\\.msn\\.com) ", A_RELAY,
	  0, 0, 0, 1, 0, 0, 0, X_HOTMAIL },
	/* qpsmtpd, LMTP, GMX */
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((?:HELO|EHLO) (" S "*)\\) \\((" IP
	  ")\\) by (" S "+) \\(qpsmtpd/" S "+\\) with (?:ESMTP|SMTP)", A_RELAY,
	  3, 2, 1, 4, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(LHLO (" S "*)\\) \\((" IP ")\\) by ("
	  S "+) with LMTP", A_RELAY, 3, 2, 1, 4, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((?:HELO|EHLO) (" S "*)\\) \\[(" IP
	  ")\\] by (" S "+) \\([^\\)]+\\) with (?:ESMTP|SMTP)", A_RELAY,
	  3, 2, 1, 4, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(\\[(" IP ")\\]\\) by (" S "+) via "
	  "smtpd \\(for " S "+\\) with SMTP\\(", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	/* qmail: once its shape is recognised, a relay whatever follows */
	{ SEC_MAIN, QMAIL_G, 0, "^(" S "+) \\((?:HELO|EHLO) ([^ \\(\\)]*)\\) \\(("
	  S "*)\\@\\[?(" IP ")\\]?\\)" ENVS " by (" S "+)", A_RELAY,
	  4, 2, 1, 6, 3, 0, 0, X_DNS_LC},
	{ SEC_MAIN, QMAIL_G, 0, "^(" S "+) \\((?:HELO|EHLO) ([^ \\(\\)]*)\\) "
	  "\\(\\[?(" IP ")\\]?\\)" ENVS " by (" S "+)", A_RELAY,
	  3, 2, 1, 5, 0, 0, 0, X_DNS_LC},
	{ SEC_MAIN, QMAIL_G, 0, "^(" S "+) \\((" S "*)\\@\\[?(" IP ")\\]?\\)" ENVS
	  " by (" S "+)", A_RELAY, 3, 1, 1, 5, 2, 0, 0, X_DNS_LC},
	{ SEC_MAIN, QMAIL_G, 0, "^(" S "+) \\(\\[?(" IP ")\\]?\\)" ENVS " by (" S
	  "+)", A_RELAY, 2, 1, 1, 4, 0, 0, 0, X_DNS_LC},
	{ SEC_MAIN, QMAIL_G, 0, NULL, A_RELAY, 0, 0, 0, 0, 0, 0, 0, X_DNS_LC},
	/* assorted */
	{ SEC_MAIN, " via HTTP$", 0, "^\\[(" IP ")\\] by (" S "+) via HTTP$",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\( \\[(" IP ")\\]\\).*? by (" S "+) ",
	  A_RELAY, 2, 0, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\((" S "+) \\[(" IP ")\\]\\) by (" S "+) ",
	  A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\[(" IP ")\\] by (" S "+) ", A_RELAY,
	  1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\(\\[?(" IP ")\\]?\\) by (" S "+) ", A_RELAY,
	  1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\[(" IP ")\\] by (" S "+) \\[" IP
	  "\\] with ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\[\\((" IP ")\\)\\] by (" S "+) \\(" IP
	  "\\) ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(\\[(" IP ")\\]\\) by (" S "+) \\(",
	  A_RELAY, 2, 1, 0, 3, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+) \\[(" IP ")\\]\\).*? by (" S
	  "+)\\b", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_SOFTDNS },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(\\[(" IP ")(?:[.:]\\d+)?\\]\\).*? by ("
	  S "+) ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+) \\[(" IP ")\\]\\)(?: "
	  "\\(authenticated bits=\\d+\\))? by (" S "+) \\(", A_RELAY,
	  3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "with (?:POP3|IMAP)", A_FETCH,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((?:HELO|EHLO) ([^\\)]*)\\) \\((" S
	  "*@)?\\[?(" IP ")\\]?\\).* by (" S "+) ", A_RELAY, 4, 2, 1, 5, 3, 0, 0,
	  X_IDENT_AT | X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "*@)?\\[?(" IP ")\\]?\\).* by ("
	  S "+) ", A_RELAY, 3, 1, 1, 4, 2, 0, 0, X_IDENT_AT | X_DNS},
	{ SEC_MAIN, " with http for ", 0, "^\\[(" IP ")\\] by (" S "+) with http "
	  "for ", A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, " via smap ", 0, "^(" S "+)\\((" IP ")\\) by (" S "+) via "
	  "smap ", A_RELAY, 2, 0, 1, 3, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+)\\((" IP "), (?:HELO|EHLO) (" S "*)\\) by ("
	  S "+) via smap ", A_RELAY, 2, 3, 1, 4, 0, 0, 0, X_DNS},
	{ SEC_MAIN, " \\(Post", 0, "^\\[(" IP ")\\] by (" S "+) \\(Post",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, " \\(ArGoSoft", 0, "^\\[(" IP ")\\] by (" S "+) \\(ArGoSoft",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" IP ") by (" S "+) \\((?:SMTPL|InterScan)\\b",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, " with BSMTP", 0, "^" S "+ by " S "+ with BSMTP", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+) \\[(" IP ")\\]\\) by (" S
	  "+) with ", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((?:HELO|EHLO) (" S "*)\\) \\((?:(" S
	  "+)\\@)?(" IP ").*?\\) by (" S "+) with ", A_RELAY, 4, 2, 1, 5, 3, 0, 0,
	  X_DNS},
	{ SEC_MAIN, NULL, 0, "^\\[(" IP ")\\] \\((?:account " S "+ )?(?:HELO|EHLO)"
	  " (" S "*)\\) by (" S "+) \\(", A_RELAY, 1, 2, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, " \\(CommuniGate Pro", 0, "^(" S "+) \\(\\[(" IP ")\\] "
	  "verified\\) by (" S "+) \\(", A_RELAY, 2, 1, 1, 3, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^\\(\\[(" IP ")\\]\\) by (" S "+) with ", A_RELAY,
	  1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^([^\\d]" S "+) \\((" IP ")\\) by (" S "+) ",
	  A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ \\(" S "+\\) by " S "+ \\(Content "
	  "Technologies ", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(\\[(" IP ")\\] \\[(" S "+)\\]\\) by ("
	  S "+) with ", A_RELAY, 2, 1, 0, 4, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" IP ") by (" S "+) with ", A_RELAY,
	  1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+)\\[(" IP ")\\]\\) by (" S
	  "+) ", A_RELAY, 3, 1, 2, 4, 0, 0, 0, X_DNS},
	{ SEC_MAIN, NULL, 0, "^\\[(" IP ")\\]" S "+ \\((?:HELO|EHLO) (" S
	  "*)\\) by (" S "+) ", A_RELAY, 1, 2, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" IP ") \\((?:HELO|EHLO) (" S "*)\\) by (" S
	  "+) ", A_RELAY, 1, 2, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\[(" IP ")\\] by (" S "+) ", A_RELAY,
	  2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+)\\((" IP ")\\) by (" S "+) ", A_RELAY,
	  2, 0, 1, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\[(" IP ")\\] by (" S "+) \\(MailGate ",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\(unverified \\[(" IP ")\\]\\) by (" S
	  "+) ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" IP ") \\([A-Za-z][^\\)]+\\) by (" S "+) with ",
	  A_RELAY, 1, 0, 0, 2, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\[(" IP ")\\] \\(([^\\)]+)\\) by (" S "+) ",
	  A_RELAY, 1, 0, 0, 3, 0, 0, 2, X_SUB },
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((?:" S "+\\@)?(" IP ")\\) by (" S
	  "+) with ", A_RELAY, 2, 0, 1, 3, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^(" S "+)\\((" IP ")\\)(?:, claiming to be \"(" S
	  "+)\")? via " S "+ by (" S "+),", A_RELAY, 2, 3, 1, 4, 0, 0, 0, X_DNS_UC},
	{ SEC_MAIN, NULL, 0, "^(" S "+) \\((" S "+)@(" IP ") with login\\) by ("
	  S "+\\.yahoo\\.com) with SMTP", A_RELAY, 3, 1, 0, 4, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^X-Originating-IP: (" IP ")$", A_RELAY,
	  1, 0, 0, 0, 0, 0, 0, 0 },
	/* local and other handovers that say nothing about the sender */
	{ SEC_MAIN, NULL, 0, "^" S "+ \\([^\\s\\@]+\\@" LH "\\) by " S "+ \\(",
	  A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ " S "+ by " S "+ with local-e?smtp ",
	  A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^127\\.0\\.0\\.1 \\(AVG SMTP " S "+ \\[" S "+\\]\\)",
	  A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+\\@" S "+ by " S "+ ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^Unknown/Local \\(", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" LH " \\((?:" S "+\\@)?" LH "[\\)\\[]", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ \\((?:" S "+\\@)?" LH "\\) ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ \\(" S "+\\@" S "+ \\[" LH "\\]\\) ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\(AUTH: " S "+\\) by " S "+ with ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^localhost \\(localhost \\[\\[UNIX: localhost\\]\\]"
	  "\\) by ", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+\\.amazon\\.com by " S "+\\.amazon\\.com with "
	  "ESMTP \\(peer crosscheck: ", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^[^\\.]+ by " S "+ with Novell_GroupWise", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^no\\.name\\.available by " S "+ via smtpd \\(for ",
	  A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ by " S "+ \\(.{0,100}\\) with qmail-scanner",
	  A_QMS, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ by " S "+ with local", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ \\(\\[unix socket\\]\\) by " S "+ \\(Cyrus "
	  "v[0-9]*?\\.[0-9]*?\\.[0-9]*?\\) with LMTPA", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ by " S "+ (?:with|via|for|\\()", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ (?:(?:with|via|for) " S "+|\\(unverified\\))"
	  " by\\b", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ \\(unknown\\) by " S "+ \\(SG\\) with \\b",
	  A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ \\(" S "+ \\[local\\]\\) by " S "+ "
	  "\\(OpenSMTPD\\) with \\b", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "\\(LSMTP for", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\(\\[" LH "\\]\\) with MailEnable ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^facebook\\.com \\([^\\)]+\\) by facebook\\.com "
	  "with Thrift id " S "+$", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ named " S "+ by gmailapi\\.google\\.com with"
	  " HTTPREST$", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^" S "+ id " S "+$", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_MAIN, NULL, 0, "^\\[<.*? \\(Jetsend", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },

	/* "FROM ..." (upper case) and "(from ..." */
	{ SEC_FROMUC, NULL, 0, "^(" S "+) \\((" S "+) \\[(" IP ")\\]\\) BY (" S
	  "+) (?:\\([^\\)]+\\) WITH SMTP )?ID <?(" S "+?)>?(?: FOR <[^>]+>)?$",
	  A_RELAY, 3, 1, 2, 4, 0, 5, 0, X_UNVERIFIED | X_DNS},
	{ SEC_PFROM, NULL, 0, "^(" S "*) \\[(" IP ")\\]\\) by (" S "+) \\(NAVGW "
	  ".*?\\) with ", A_RELAY, 2, 1, 0, 3, 0, 0, 0, 0 },
	{ SEC_PFROM, NULL, 0, "^" S "+\\@localhost\\) by " S "+ ", A_SKIP,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ SEC_PFROM, NULL, 0, "^[^\\s\\@]+\\@[^)]+\\) by " S "+\\(jqueuemail\\) id "
	  "[^\\s;]+", A_SKIP, 0, 0, 0, 0, 0, 0, 0, 0 },
};
#define NFMTS (sizeof fmts / sizeof fmts[0])

/* The other patterns, by purpose. */
enum prx {
	P_FROM, P_LOCALFOR, P_FROMBY, P_DATE, P_ID, P_HELO1, P_HELO2, P_BY,
	P_AUTH_WITH, P_GMAIL1, P_GMAIL2, P_COURIER, P_SENDMAIL, P_GMX, P_CP,
	P_PFAUTH, P_CGP, P_DAV, P_VIA, P_ENVFROM, P_SQ, P_SQ_IP, P_AOL,
	P_AOL_IP, P_EXIM_RDNS, P_EXIM_HELO, P_EXIM_IP, P_EXIM_BY,
	P_SUB_HELO, P_SUB_IDENT, P_HEAD, P_ANYIP, P_ZONE, P_MAPPED, P_PRIVATE,
	P_HDRIP, P_COUNT
};
#define HC "[-A-Za-z0-9.^+_&:=?!@%*$\\\\/]"
#define NHC "[^-A-Za-z0-9.^+_&:=?!@%*$\\\\/]"
#define PV4 "(?:10|127|169\\.254|172\\.(?:1[6-9]|2[0-9]|3[01])|192\\.168|" \
	"100\\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7]))\\."
static const struct { const char *re; bool ci; } prx_src[P_COUNT] = {
	[P_FROM] = { "^\\(?from ", true },
	[P_LOCALFOR] = { "\\bwith local for\\b", false },
	[P_FROMBY] = { "^from (" S "+) by [^\\s;]+ ?;", true },
	[P_DATE] = { "[\\s;]+(?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\\d+ "
	  "(?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \\d+ "
	  "\\d+:\\d+(?::\\d+)? " S "+$", false },
	[P_ID] = { " id <?([^\\s<>;]{3,})", false },
	[P_HELO1] = { "\\bhelo=(" HC "+)(?:" NHC "|$)", false },
	[P_HELO2] = { "\\b(?:HELO|EHLO) (" HC "+)(?:" NHC "|$)", false },
	[P_BY] = { " by (" S "+)(?:[^-A-Za-z0-9;.]|$)", false },
	[P_AUTH_WITH] = { " with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)"
	  "(?: |;|$)", true },
	[P_GMAIL1] = { " by mx\\.google\\.com with ESMTPS id [a-z0-9]{1,4}sm"
	  "[0-9]{2,9}[a-z]{3}\\.[0-9]{1,3}\\.[0-9]{4}\\.(?:[0-6][0-9]\\.){4}"
	  "[0-6][0-9]", false },
	[P_GMAIL2] = { "\\(version=([^ ]+) cipher=([^\\)]+)\\)", false },
	[P_COURIER] = { "^from .*?(?:\\]\\)|\\)\\]) \\(AUTH: (LOGIN|PLAIN|"
	  "DIGEST-MD5|CRAM-MD5) " S "+(?:, .*?)?\\) by ", false },
	[P_SENDMAIL] = { "^from .*?(?:\\](?: \\([^)]*\\))?\\)|\\)\\]) .*?\\(.*?"
	  "authenticated.*?\\).*? by", false },
	[P_GMX] = { "from " S "* \\((?:HELO|EHLO) (" S "*)\\) \\[(" IP ")\\] by "
	  "(mail\\.gmx\\.(?:net|com)) \\([^\\)]+\\) with ((?:ESMTP|SMTP))", false },
	[P_CP] = { "\\) by .+ \\(\\d{1,2}\\.\\d\\.\\d{3}(?:\\.\\d{1,3})?\\) "
	  "\\(authenticated as .+\\) id ", false },
	[P_PFAUTH] = { "\\) \\(Authenticated sender: " S "+\\) by " S "+ "
	  "\\(([^\\)]+)\\) with ", false },
	[P_CGP] = { "CommuniGate Pro (HTTP|SMTP|XIMSS|IMAP)", false },
	[P_DAV] = { " with Microsoft Exchange Server HTTP-DAV\\b", false },
	[P_VIA] = { " \\(via (HTTP.?)\\)(?: |;|$)", true },
	[P_ENVFROM] = { "(?:return-path:? |envelope-(?:sender|from)[ =])(" S
	  "+)\\b", true },
	[P_SQ] = { " \\((?:SquirrelMail|NaSMail) authenticated user ", false },
	[P_SQ_IP] = { "(" IP ")\\b(?![.-]).{10,80}by (" S "+) with HTTP", false },
	[P_AOL] = { "aol\\.com", false },
	[P_AOL_IP] = { "(" IP ") by (" S "+) \\(" IP "\\) with HTTP "
	  "\\(WebMailUI\\)", false },
	[P_EXIM_RDNS] = { "^(" S "+) ", false },
	[P_EXIM_HELO] = { " \\((" S "+)\\) ", false },
	[P_EXIM_IP] = { " \\[(" IP ")(?:\\.\\d+)?\\] ", false },
	[P_EXIM_BY] = { "by (" S "+) ", false },
	[P_SUB_HELO] = { "helo=(" S "+)", false },
	[P_SUB_IDENT] = { "ident=(" S "*)", false },
	[P_HEAD] = { "^(" S "+)[^-A-Za-z0-9.]", false },
	[P_ANYIP] = { "\\[(" IP ")\\]", false },
	[P_ZONE] = { "%[A-Z0-9._~-]*$", true },
	[P_MAPPED] = { "^0*:0*:(?:0*:)*ffff:(\\d+\\.\\d+\\.\\d+\\.\\d+)$", true },
	[P_PRIVATE] = { "^(?:" PV4 "|(?:IPv6:)?(?:fe[89ab][0-9a-f]:|"
	  "(?:0{0,4}:){2,7}0{0,3}1$|(?:0{0,4}:){1,6}ffff:" PV4 "))", true },
	[P_HDRIP] = { "(" IP ")", false },
};

static pcre2_code *fmt_code[NFMTS], *fmt_guard[NFMTS];
static pcre2_code *sect_code[SEC_MAIN];
static pcre2_code *prx_code[P_COUNT];
static pcre2_match_context *mctx;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool compiled_ok;

static pcre2_code *comp(const char *re, bool ci)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	                              ci ? PCRE2_CASELESS : 0, &err, &off, NULL);
	if (c != NULL)
		(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}

static void compile_all(void)
{
	bool ok = true;
	/* Some formats nest quantifiers, as SpamAssassin's do; a crafted
	 * line could make them backtrack for long. Real lines need a few
	 * thousand steps; at the limit a pattern counts as not matching. */
	if ((mctx = pcre2_match_context_create(NULL)) == NULL)
		ok = false;
	else
		pcre2_set_match_limit(mctx, 20000);
	for (size_t i = 0; i < NFMTS; i++) {
		if (fmts[i].re && !(fmt_code[i] = comp(fmts[i].re, false)))
			ok = false;
		if (fmts[i].guard && !(fmt_guard[i] = comp(fmts[i].guard, false)))
			ok = false;
	}
	for (size_t i = 0; i < SEC_MAIN; i++)
		if (!(sect_code[i] = comp(sect_guard[i], false)))
			ok = false;
	for (size_t i = 0; i < P_COUNT; i++)
		if (!(prx_code[i] = comp(prx_src[i].re, prx_src[i].ci)))
			ok = false;
	compiled_ok = ok;
}

/* ---- one line ---- */
struct line {
	char s[RELAYS_MAX_LINE + 2];   /* + ")by " -> ") by " */
	size_t len;
	pcre2_match_data *md;
	char f[F_COUNT][FLD_MAX];
	bool has_envfrom;
	bool dns;   /* the format says the MTA looked the address up */
};

static bool run(struct line *l, const pcre2_code *c, const char *s,
                size_t len)
{
	return pcre2_match(c, (PCRE2_SPTR)s, len, 0, 0, l->md, mctx) > 0;
}
static bool on(struct line *l, const pcre2_code *c)
{
	return run(l, c, l->s, l->len);
}
static bool P(struct line *l, enum prx p)
{
	return on(l, prx_code[p]);
}

static void set(struct line *l, enum fld f, const char *p, size_t n)
{
	if (n >= FLD_MAX)
		n = FLD_MAX - 1;
	memcpy(l->f[f], p, n);
	l->f[f][n] = '\0';
}
static void sets(struct line *l, enum fld f, const char *s)
{
	set(l, f, s, strlen(s));
}

/* Capture g of the last match over subject s into field f ("" when the
 * group did not take part). */
static void cap(struct line *l, const char *s, enum fld f, int g)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(l->md);
	if (ov[2 * g] == PCRE2_UNSET)
		set(l, f, "", 0);
	else
		set(l, f, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

static size_t ovs(struct line *l, int g)
{
	return pcre2_get_ovector_pointer(l->md)[2 * g];
}

static void cut(struct line *l, size_t from, size_t to)
{
	memmove(l->s + from, l->s + to, l->len - to + 1);
	l->len -= to - from;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Collapse blanks, trim, drop trailing ";" (with one blank before). */
static void normalise(struct line *l, const char *in, size_t n)
{
	size_t o = 0;
	bool sp = false;
	for (size_t i = 0; i < n && o < RELAYS_MAX_LINE; i++) {
		if (is_ws((unsigned char)in[i])) {
			sp = true;
			continue;
		}
		if (sp && o > 0)
			l->s[o++] = ' ';
		sp = false;
		if (o < RELAYS_MAX_LINE)
			l->s[o++] = in[i];
	}
	l->s[o] = '\0';
	l->len = o;
	while (l->len > 0 && l->s[l->len - 1] == ';') {
		l->len--;
		if (l->len > 0 && l->s[l->len - 1] == ' ')
			l->len--;
		l->s[l->len] = '\0';
	}
}

static void find_auth(struct line *l)
{
	const char *s = l->s;
	bool by = strstr(s, " by ") != NULL;
	if (by && P(l, P_AUTH_WITH)) {
		cap(l, s, F_AUTH, 1);
	} else if (P(l, P_GMAIL1) && P(l, P_GMAIL2)) {
		char a[FLD_MAX], b[FLD_MAX], out[FLD_MAX];
		cap(l, s, F_AUTH, 1);
		memcpy(a, l->f[F_AUTH], FLD_MAX);
		cap(l, s, F_AUTH, 2);
		memcpy(b, l->f[F_AUTH], FLD_MAX);
		snprintf(out, sizeof out, "GMail - transport=%.200s cipher=%.200s",
		         a, b);
		sets(l, F_AUTH, out);
	} else if (P(l, P_COURIER)) {
		cap(l, s, F_AUTH, 1);
	} else if (strstr(s, "authenticated") && P(l, P_SENDMAIL)) {
		sets(l, F_AUTH, "Sendmail");
	} else if (P(l, P_GMX)) {
		char a[FLD_MAX], b[FLD_MAX], out[FLD_MAX];
		cap(l, s, F_AUTH, 4);
		memcpy(a, l->f[F_AUTH], FLD_MAX);
		cap(l, s, F_AUTH, 3);
		memcpy(b, l->f[F_AUTH], FLD_MAX);
		snprintf(out, sizeof out, "GMX (%.200s / %.200s)", a, b);
		sets(l, F_AUTH, out);
	} else if (strstr(s, " (authenticated as ") && P(l, P_CP)) {
		sets(l, F_AUTH, "CriticalPath");
	} else if (P(l, P_PFAUTH)) {
		char out[FLD_MAX];
		cap(l, s, F_AUTH, 1);
		if (strcmp(l->f[F_AUTH], "Postfix") != 0) {
			snprintf(out, sizeof out, "Postfix (%.400s)", l->f[F_AUTH]);
			sets(l, F_AUTH, out);
		}
	} else if (P(l, P_CGP) && strstr(s, " (account ")) {
		sets(l, F_AUTH, "Communigate");
	} else if (P(l, P_DAV)) {
		sets(l, F_AUTH, "HTTP-DAV");
	} else if (by && P(l, P_VIA)) {
		cap(l, s, F_AUTH, 1);
	}
}

/* "helo=X ident=Y" inside a comment (Exim). */
static void parse_sub(struct line *l, const char *sub, size_t n)
{
	char tmp[FLD_MAX];
	if (n >= FLD_MAX)
		n = FLD_MAX - 1;
	memcpy(tmp, sub, n);
	tmp[n] = '\0';
	if (run(l, prx_code[P_SUB_HELO], tmp, n)) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(l->md);
		size_t a = ov[0], b = ov[1];
		cap(l, tmp, F_HELO, 1);
		memmove(tmp + a, tmp + b, n - b + 1);
		n -= b - a;
	}
	if (run(l, prx_code[P_SUB_IDENT], tmp, n))
		cap(l, tmp, F_IDENT, 1);
}

/* Apply a matched format entry; returns its action. */
static enum act apply(struct line *l, const struct fmt *f)
{
	if (f->act == A_RELAY)
		l->dns = (f->x & X_DNS) != 0;
	if (f->act != A_RELAY || f->re == NULL)
		return f->act;
	const char *s = l->s;
	if (f->sub) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(l->md);
		char sub[FLD_MAX];
		size_t a = ov[2 * f->sub], b = ov[2 * f->sub + 1];
		size_t n = a == PCRE2_UNSET ? 0 : b - a;
		if (n >= FLD_MAX)
			n = FLD_MAX - 1;
		memcpy(sub, s + (a == PCRE2_UNSET ? 0 : a), n);
		/* fields first: parse_sub reuses the match data */
		if (f->ip) cap(l, s, F_IP, f->ip);
		if (f->rdns) cap(l, s, F_RDNS, f->rdns);
		if (f->helo) cap(l, s, F_HELO, f->helo);
		if (f->by) cap(l, s, F_BY, f->by);
		parse_sub(l, sub, n);
		return A_RELAY;
	}
	if (f->ip) cap(l, s, F_IP, f->ip);
	if (f->rdns) cap(l, s, F_RDNS, f->rdns);
	if (f->helo) cap(l, s, F_HELO, f->helo);
	if (f->by) cap(l, s, F_BY, f->by);
	if (f->ident) cap(l, s, F_IDENT, f->ident);
	if (f->id) cap(l, s, F_ID, f->id);
	if (f->x & X_CLEAR_ID)
		sets(l, F_ID, "");
	/* rDNS words that say the MTA did not (or could not) look it up */
	if (f->x & X_SOFTDNS)
		l->dns = strcmp(l->f[F_RDNS], "softdnserr") != 0;
	if (f->x & X_DNS_LC)
		l->dns = strcmp(l->f[F_RDNS], "unknown") != 0;
	if (f->x & X_DNS_UC)
		l->dns = strcmp(l->f[F_RDNS], "UNKNOWN") != 0;
	if ((f->x & X_SOFTDNS) && strcmp(l->f[F_RDNS], "softdnserr") == 0)
		sets(l, F_RDNS, "");
	if ((f->x & X_UNVERIFIED) && strcmp(l->f[F_RDNS], "unverified") == 0)
		sets(l, F_RDNS, "");
	if (f->x & X_IDENT_AT) {
		size_t n = strlen(l->f[F_IDENT]);
		if (n > 0 && l->f[F_IDENT][n - 1] == '@')
			l->f[F_IDENT][n - 1] = '\0';
	}
	if (f->x & X_SENDMAIL_IDENT) {
		/* "IDENT:user@host" or "user@host" in the rDNS slot */
		char *r = l->f[F_RDNS];
		size_t skip = strncmp(r, "IDENT:", 6) == 0 ? 6 : 0;
		char *at = strchr(r + skip, '@');
		if (skip && at) {
			set(l, F_IDENT, r + skip, (size_t)(at - r - skip));
			memmove(r, at + 1, strlen(at + 1) + 1);
			at = strchr(r, '@');
		}
		if (at) {
			set(l, F_IDENT, r, (size_t)(at - r));
			memmove(r, at + 1, strlen(at + 1) + 1);
		}
	}
	if ((f->x & X_HOTMAIL) && P(l, P_HDRIP) && ovs(l, 1) == 0)
		cap(l, l->s, F_IP, 1);
	return A_RELAY;
}

static int try_fmt(struct line *l, size_t i)
{
	const struct fmt *f = &fmts[i];
	if (f->guard && on(l, fmt_guard[i]) == f->guard_not)
		return -1;
	if (f->re && !on(l, fmt_code[i]))
		return -1;
	return (int)apply(l, f);
}

/* The Exim catch-all: take what bits can be found; a relay only with an
 * address and a "by". */
static bool exim_bits(struct line *l)
{
	if (P(l, P_EXIM_RDNS))
		cap(l, l->s, F_RDNS, 1);
	if (P(l, P_EXIM_HELO))
		cap(l, l->s, F_HELO, 1);
	if (P(l, P_EXIM_IP))
		cap(l, l->s, F_IP, 1);
	if (P(l, P_EXIM_BY)) {
		cap(l, l->s, F_BY, 1);
		return l->f[F_IP][0] != '\0';
	}
	return false;
}

/* The formats after "from ": returns an enum act or -1 (no format). */
static int match_from(struct line *l)
{
	if (P(l, P_ENVFROM)) {
		cap(l, l->s, F_ENVFROM, 1);
		l->has_envfrom = true;
	}
	if (P(l, P_SQ) && P(l, P_SQ_IP)) {
		cap(l, l->s, F_IP, 1);
		cap(l, l->s, F_BY, 2);
		return A_RELAY;
	}
	if (P(l, P_AOL) && P(l, P_AOL_IP)) {
		cap(l, l->s, F_IP, 1);
		cap(l, l->s, F_BY, 2);
		return A_RELAY;
	}
	for (int sct = 0; sct < SEC_MAIN; sct++) {
		if (!on(l, sect_code[sct]))
			continue;
		for (size_t i = 0; i < NFMTS; i++) {
			if (fmts[i].sect != (enum sect)sct)
				continue;
			int a = try_fmt(l, i);
			if (a >= 0)
				return a;
		}
		if (sct == SEC_EXIM && exim_bits(l))
			return A_RELAY;
		break;
	}
	for (size_t i = 0; i < NFMTS; i++) {
		if (fmts[i].sect != SEC_MAIN)
			continue;
		int a = try_fmt(l, i);
		if (a >= 0)
			return a;
	}
	if (l->f[F_HELO][0] == '\0' && P(l, P_HEAD))
		cap(l, l->s, F_HELO, 1);
	return -1;
}

static int match_sect(struct line *l, enum sect sct)
{
	for (size_t i = 0; i < NFMTS; i++) {
		if (fmts[i].sect != sct)
			continue;
		int a = try_fmt(l, i);
		if (a >= 0)
			return a;
	}
	return -1;
}

/* Replace the bytes SpamAssassin does not allow in a field by "!". */
static void bang(char *s)
{
	for (; *s; s++)
		if (is_ws((unsigned char)*s) || strchr("#[]()<>|", *s))
			*s = '!';
}

static void finish(struct line *l)
{
	char *r = l->f[F_RDNS], *ip = l->f[F_IP];
	size_t n = strlen(r);
	while (n > 0 && r[n - 1] == '.')
		r[--n] = '\0';
	if (strcasecmp(r, "unknown") == 0 || r[0] == '[')
		r[0] = '\0';
	if (strncasecmp(ip, "ipv6:", 5) == 0)
		memmove(ip, ip + 5, strlen(ip + 5) + 1);
	if (ip[0] == '[')
		memmove(ip, ip + 1, strlen(ip));
	n = strlen(ip);
	if (n > 0 && ip[n - 1] == ']')
		ip[--n] = '\0';
	if (run(l, prx_code[P_ZONE], ip, n))
		ip[ovs(l, 0)] = '\0';
	n = strlen(ip);
	if (run(l, prx_code[P_MAPPED], ip, n)) {
		char v4[FLD_MAX];
		size_t a = ovs(l, 1);
		snprintf(v4, sizeof v4, "%s", ip + a);
		sets(l, F_IP, v4);
	}
	char *by = l->f[F_BY];
	n = strlen(by);
	if (n > 0 && by[n - 1] == ';')
		by[n - 1] = '\0';
	bang(l->f[F_IP]);
	bang(l->f[F_RDNS]);
	bang(l->f[F_HELO]);
	bang(l->f[F_BY]);
	bang(l->f[F_IDENT]);
	if (l->has_envfrom) {
		char *e = l->f[F_ENVFROM];
		size_t a = 0;
		while (is_ws((unsigned char)e[a]))
			a++;
		while (e[a] == '<')
			a++;
		memmove(e, e + a, strlen(e + a) + 1);
		n = strlen(e);
		while (n > 0 && is_ws((unsigned char)e[n - 1]))
			n--;
		while (n > 0 && e[n - 1] == '>')
			n--;
		e[n] = '\0';
		bang(e);
	}
}

/* Parse one value into l->f. 1 relay, 0 skipped, 2 fetch marker,
 * 3 qmail-scanner (envfrom for the next), -1 unparseable. */
static int parse(struct line *l, const char *in, size_t n)
{
	memset(l->f, 0, sizeof l->f);
	l->has_envfrom = false;
	l->dns = false;
	normalise(l, in, n);
	if (!P(l, P_FROM) || P(l, P_LOCALFOR))
		return 0;
	if (P(l, P_FROMBY)) {
		/* "from host by host;" says nothing, unless host is [a.b.c.d] */
		const char *h = l->s + ovs(l, 1);
		size_t hn = pcre2_get_ovector_pointer(l->md)[3] - ovs(l, 1);
		bool lit = hn >= 2 && h[0] == '[' && h[hn - 1] == ']' &&
		           strspn(h + 1, "0123456789.") == hn - 2;
		if (!lit)
			return 0;
	}
	if (P(l, P_DATE))
		cut(l, ovs(l, 0), l->len);
	char *pb = strstr(l->s, ")by ");
	if (pb != NULL) {
		memmove(pb + 2, pb + 1, l->len - (size_t)(pb + 1 - l->s) + 1);
		pb[1] = ' ';
		l->len++;
	}
	if (P(l, P_ID))
		cap(l, l->s, F_ID, 1);
	if (P(l, P_HELO1) || P(l, P_HELO2))
		cap(l, l->s, F_HELO, 1);
	if (P(l, P_BY))
		cap(l, l->s, F_BY, 1);
	find_auth(l);

	int a = -1;
	if (strncmp(l->s, "from ", 5) == 0) {
		cut(l, 0, 5);
		a = match_from(l);
	} else if (strncmp(l->s, "FROM ", 5) == 0) {
		cut(l, 0, 5);
		a = match_sect(l, SEC_FROMUC);
	} else if (strncmp(l->s, "(from ", 6) == 0) {
		cut(l, 0, 6);
		a = match_sect(l, SEC_PFROM);
	}
	if (a == A_SKIP)
		return 0;
	if (a == A_FETCH)
		return 2;
	if (a == A_QMS) {
		finish(l);
		return 3;
	}
	if (a != A_RELAY) {
		if (l->f[F_IP][0] == '\0' && P(l, P_ANYIP))
			cap(l, l->s, F_IP, 1);
		if (l->f[F_IP][0] == '\0' || l->f[F_BY][0] == '\0')
			return -1;
	}
	finish(l);
	return 1;
}

static bool is_private(struct line *l)
{
	return run(l, prx_code[P_PRIVATE], l->f[F_IP], strlen(l->f[F_IP]));
}

static int render(const struct line *l, int intl, int msa, char *buf,
                  size_t cap)
{
	int n = snprintf(buf, cap, "[ ip=%s rdns=%s helo=%s by=%s ident=%s "
	                 "envfrom=%s intl=%d id=%s auth=%s msa=%d ]",
	                 l->f[F_IP], l->f[F_RDNS], l->f[F_HELO], l->f[F_BY],
	                 l->f[F_IDENT], l->f[F_ENVFROM], intl, l->f[F_ID],
	                 l->f[F_AUTH], msa);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* ---- whole message ---- */
struct relays {
	struct strbuf s[RELAYS_KINDS];
	size_t num[RELAYS_KINDS];
	size_t count, unparseable;
	size_t boundary[2];  /* last trusted (internal) relay index + 1 */
	/* every relay once; per list, the indexes of its relays */
	struct relays_relay *all;
	size_t nall, capall;
	size_t *idx[RELAYS_KINDS];
	size_t nidx[RELAYS_KINDS], capidx[RELAYS_KINDS];
	bool oom;
};

/* Copy l's fields as a new relay; its index, or (size_t)-1 on failure. */
static size_t rel_add(struct relays *r, const struct line *l,
                      bool envfrom_set, bool priv, bool originating)
{
	if (r->nall == r->capall) {
		size_t cap = r->capall ? r->capall * 2 : 8;
		struct relays_relay *n = realloc(r->all, cap * sizeof *n);
		if (n == NULL) {
			r->oom = true;
			return (size_t)-1;
		}
		r->all = n;
		r->capall = cap;
	}
	static const enum fld fs[6] = { F_IP, F_RDNS, F_HELO, F_BY, F_IDENT,
	                                F_ENVFROM };
	size_t len[6], total = 0;
	for (int i = 0; i < 6; i++)
		total += (len[i] = strlen(l->f[fs[i]])) + 1;
	char *p = malloc(total);
	if (p == NULL) {
		r->oom = true;
		return (size_t)-1;
	}
	const char *v[6];
	for (int i = 0; i < 6; i++) {
		memcpy(p, l->f[fs[i]], len[i] + 1);
		v[i] = p;
		p += len[i] + 1;
	}
	r->all[r->nall] = (struct relays_relay){
		.ip = v[0], .rdns = v[1], .helo = v[2], .by = v[3],
		.ident = v[4], .envfrom = v[5], .envfrom_set = envfrom_set,
		.ip_private = priv, .originating = originating,
		.no_rdns = l->dns && l->f[F_RDNS][0] == '\0' };
	return r->nall++;
}

const struct relays_relay *relays_at(const struct relays *r,
                                     enum relays_kind k, size_t i)
{
	return i < r->nidx[k] ? &r->all[r->idx[k][i]] : NULL;
}

int relays_kind_of(const char *name)
{
	static const char *const names[RELAYS_KINDS] = {
		"x-spam-relays-trusted", "x-spam-relays-untrusted",
		"x-spam-relays-internal", "x-spam-relays-external",
	};
	for (int k = 0; k < RELAYS_KINDS; k++)
		if (strcasecmp(name, names[k]) == 0)
			return k;
	return -1;
}

/* Append relay number j, rendered as s, to list k. */
static void add(struct relays *r, enum relays_kind k, const char *s,
                size_t n, size_t j)
{
	r->num[k]++;
	if (r->s[k].len > 0)
		strbuf_put(&r->s[k], " ", 1);
	strbuf_put(&r->s[k], s, n);
	if (j == (size_t)-1)
		return;
	if (r->nidx[k] == r->capidx[k]) {
		size_t cap = r->capidx[k] ? r->capidx[k] * 2 : 8;
		size_t *x = realloc(r->idx[k], cap * sizeof *x);
		if (x == NULL) {
			r->oom = true;
			return;
		}
		r->idx[k] = x;
		r->capidx[k] = cap;
	}
	r->idx[k][r->nidx[k]++] = j;
}

static void reset(struct relays *r, enum relays_kind k)
{
	strbuf_reset(&r->s[k]);
	r->num[k] = 0;
	r->nidx[k] = 0;
}

/* The headers SpamAssassin's default configuration takes an originating
 * client address from; each (first occurrence) becomes one more relay. */
static const char *const orig_headers[] = {
	"X-Yahoo-Post-IP", "X-Originating-IP", "X-Apparently-From",
	"X-SenderIP", "X-AOL-IP",
	"X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
};

int relays_build(const struct msg *m, struct relays **out)
{
	return relays_build_trust(m, NULL, out);
}

int relays_build_trust(const struct msg *m, const struct trustpath *t,
                       struct relays **out)
{
	*out = NULL;
	pthread_once(&once, compile_all);
	if (!compiled_ok)
		return -1;
	struct relays *r = calloc(1, sizeof *r);
	struct line *l = malloc(sizeof *l);
	if (r == NULL || l == NULL || !(l->md = pcre2_match_data_create(10,
	                                                                NULL))) {
		free(r);
		free(l);
		return -1;
	}
	/* SpamAssassin: with only one of trusted_networks/internal_networks
	 * configured, it stands for the other too */
	bool conf = trustpath_active(t);
	const struct netset *tn = NULL, *in = NULL, *msa = NULL;
	if (conf) {
		tn = t->net[t->configured[TRUSTPATH_TRUSTED] ?
		            TRUSTPATH_TRUSTED : TRUSTPATH_INTERNAL];
		in = t->net[t->configured[TRUSTPATH_INTERNAL] ?
		            TRUSTPATH_INTERNAL : TRUSTPATH_TRUSTED];
		msa = t->net[TRUSTPATH_MSA];
	}
	bool trusted = true, internal = true, found_msa = false;
	bool allow_fetch = true;
	char qms_env[FLD_MAX] = "";
	bool qms = false;
	char buf[RELAYS_MAX_LINE + FLD_MAX * 4];
	size_t nrecv = 0;
	while (msg_header_get(m, "received", nrecv) && nrecv < RELAYS_MAX_HEADERS)
		nrecv++;
	size_t norig = sizeof orig_headers / sizeof orig_headers[0];
	for (size_t i = 0; i < nrecv + norig; i++) {
		const char *hin;
		size_t n;
		char syn[128];
		if (i < nrecv) {
			const struct msg_header *h = msg_header_get(m, "received", i);
			hin = h->value.ptr;
			n = h->value.len;
		} else {
			const struct msg_header *h =
			    msg_header_get(m, orig_headers[i - nrecv], 0);
			if (h == NULL || !run(l, prx_code[P_HDRIP], h->value.ptr,
			                      h->value.len))
				continue;
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(l->md);
			int k = snprintf(syn, sizeof syn, "from X-Originating-IP: %.*s",
			                 (int)(ov[3] - ov[2]), h->value.ptr + ov[2]);
			hin = syn;
			n = k > 0 && (size_t)k < sizeof syn ? (size_t)k : 0;
		}
		bool had_qms = qms;
		char env[FLD_MAX];
		memcpy(env, qms_env, sizeof env);
		qms = false;
		int rc = parse(l, hin, n);
		if (rc == 3) {
			snprintf(qms_env, sizeof qms_env, "%s",
			         l->has_envfrom ? l->f[F_ENVFROM] : "");
			qms = true;
		}
		if (rc == 2 && allow_fetch) {
			/* a POP/IMAP fetch inside the trusted part: what came
			 * before it is another mailbox's history */
			reset(r, RELAYS_TRUSTED);
			reset(r, RELAYS_INTERNAL);
			reset(r, RELAYS_EXTERNAL);
		}
		if (rc < 0)
			r->unparseable++;
		if (rc != 1) {
			r->boundary[0] += trusted;
			r->boundary[1] += internal;
			continue;
		}
		if (had_qms)
			sets(l, F_ENVFROM, env);
		bool priv = is_private(l), auth = l->f[F_AUTH][0] != '\0';
		int is_msa = 0;
		/* the status changes only inside the trusted part and before
		 * an MSA */
		if (trusted && !found_msa) {
			const char *ip = l->f[F_IP];
			if (!conf) {
				if (!priv && !auth)
					trusted = internal = false;
			} else if (!auth && !netset_contains(tn, ip)) {
				trusted = internal = false;
			} else {
				if (internal && !auth && !netset_contains(in, ip))
					internal = false;
				if (netset_contains(msa, ip))
					found_msa = true, is_msa = 1;
			}
		}
		r->boundary[0] += trusted;
		r->boundary[1] += internal;
		int len = render(l, internal, is_msa, buf, sizeof buf);
		if (len < 0)
			continue;
		r->count++;
		size_t j = rel_add(r, l, l->has_envfrom || had_qms, priv,
		                   i >= nrecv);
		add(r, trusted ? RELAYS_TRUSTED : RELAYS_UNTRUSTED, buf,
		    (size_t)len, j);
		add(r, internal ? RELAYS_INTERNAL : RELAYS_EXTERNAL, buf,
		    (size_t)len, j);
		allow_fetch = trusted;
	}
	pcre2_match_data_free(l->md);
	free(l);
	for (int k = 0; k < RELAYS_KINDS; k++)
		if (r->s[k].oom || r->oom) {
			relays_free(r);
			return -1;
		}
	*out = r;
	return 0;
}

void relays_free(struct relays *r)
{
	if (r == NULL)
		return;
	for (int k = 0; k < RELAYS_KINDS; k++) {
		free(r->s[k].p);
		free(r->idx[k]);
	}
	/* every string of a relay lives in the one block ip points to */
	for (size_t j = 0; j < r->nall; j++)
		free((char *)r->all[j].ip);
	free(r->all);
	free(r);
}

const char *relays_str(const struct relays *r, enum relays_kind k,
                       size_t *len)
{
	const struct strbuf *b = &r->s[k];
	if (len != NULL)
		*len = b->len;
	return b->p != NULL ? b->p : "";
}

int relays_all_kind_of(const char *name)
{
	static const char *const names[RELAYS_KINDS] = {
		"ALL-TRUSTED", "ALL-UNTRUSTED", "ALL-INTERNAL", "ALL-EXTERNAL",
	};
	for (int k = 0; k < RELAYS_KINDS; k++)
		if (strcasecmp(name, names[k]) == 0)
			return k;
	return -1;
}

size_t relays_boundary(const struct relays *r, bool internal)
{
	return r->boundary[internal];
}

bool relays_ip_private(const char *s)
{
	pthread_once(&once, compile_all);
	if (!compiled_ok)
		return false;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (md == NULL)
		return false;
	bool hit = pcre2_match(prx_code[P_PRIVATE], (PCRE2_SPTR)s, strlen(s),
	                       0, 0, md, mctx) >= 0;
	pcre2_match_data_free(md);
	return hit;
}

size_t relays_count(const struct relays *r) { return r->count; }
size_t relays_num(const struct relays *r, enum relays_kind k)
{
	return r->num[k];
}
size_t relays_unparseable(const struct relays *r) { return r->unparseable; }

int relays_parse_line(const char *line, size_t len, char *buf,
                      size_t buflen, bool *priv, bool *auth)
{
	pthread_once(&once, compile_all);
	if (!compiled_ok)
		return -1;
	struct line *l = malloc(sizeof *l);
	if (l == NULL || !(l->md = pcre2_match_data_create(10, NULL))) {
		free(l);
		return -1;
	}
	int rc = parse(l, line, len);
	int ret = rc == 1 ? 1 : rc < 0 ? -1 : 0;
	if (ret == 1) {
		if (render(l, 0, 0, buf, buflen) < 0)
			ret = -1;
		*priv = is_private(l);
		*auth = l->f[F_AUTH][0] != '\0';
	}
	pcre2_match_data_free(l->md);
	free(l);
	return ret;
}
