/*
 * html.h — tolerant HTML tokenizer and text renderer.
 *
 * html_render() reads real-world (broken) HTML — unclosed tags and
 * comments, stray '<', entities named and numeric, with or without ';'
 * — and appends its text to out->text: whitespace collapsed,
 * block elements as line breaks, script/style dropped, <title> kept
 * apart. Text SpamAssassin calls invisible (HTML.pm's
 * html_font_invisible(), htmlstyle.h) goes to out->invisible too. Every
 * link-like attribute (href, src, action, background) is passed to
 * out->uri (resolved against <base href>; without one, a link with a
 * scheme or a "//" as HTML.pm's target_uri rewrites it: dot segments
 * removed, "http:" before "//www."); facts for
 * rules are summed in out->facts.
 */
#ifndef VIGIL_HTML_H
#define VIGIL_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

struct html_facts {
	size_t visible_len;      /* non-blank bytes of visible text */
	size_t invisible_len;    /* non-blank bytes of invisible text */
	size_t images;
	size_t links;
	size_t mismatched_links; /* anchor text host != href host */
	size_t tags;
	size_t tag_events;       /* start and end tags, as HTML::Parser
	                            reports them (end tags too) */
	size_t obfuscation;      /* text nodes starting with a word character
	                            right after a text ending with one: a
	                            word split by markup (HTML.pm) */
	bool malformed;          /* unclosed comment or tag at the end */
};

enum html_link { HTML_LINK, HTML_ANCHOR, HTML_ANCHOR_KEY };

struct html_out {
	struct arena_buf *text;
	struct arena_buf *invisible;
	struct arena_buf *title;
	/* Called for every link; raw is entity-decoded, not normalised;
	 * kind: HTML_LINK, HTML_ANCHOR for an <a href> (SpamAssassin lists
	 * those as written too), HTML_ANCHOR_KEY for the href as written of
	 * an <a> resolved against <base> or rewritten by target_uri without
	 * one (reported after the resolved link:
	 * SpamAssassin keys its anchor text by it, so lists it too); tag:
	 * the element's name in lower case ("a", "img", "form", "meta",
	 * ...), the type SpamAssassin's URI details give the link; NULL
	 * for an <a href> also reported as written, whose fragment a line
	 * feed cut (not the link then, the key of its anchor text). */
	void (*uri)(void *ctx, const char *raw, size_t len,
	            enum html_link kind, const char *tag);
	void *ctx;
	/* The part's bytes are ASCII (before the curly quotes are made
	 * straight): SpamAssassin then keeps the text a byte string, and
	 * references to U+0080..U+00FF may come out as one byte each. */
	bool ascii_source;
	struct html_facts facts;
	/* Called once for every <a> start tag (NULL: not wanted), when the
	 * next one starts or the document ends, with its anchor text as
	 * HTML.pm collects it for SpamAssassin's URI details: the decoded
	 * text (blanks as written, "&nbsp;" a space, "<img>\n" for an
	 * image) met while an <a> is open (start tags counted against end
	 * tags), script and style aside, all of it going to the last <a>
	 * opened; key: its href as written (entity-decoded), "" without
	 * one. */
	void (*anchor)(void *ctx, const char *key, size_t key_len,
	               const char *text, size_t text_len);
};

void html_render(const char *in, size_t len, struct html_out *out);

/* Where a comment ends as HTML::Parser (SpamAssassin) ends it: p points
 * just past its "<!--"; returns the byte after the next "-->", else, when
 * none follows, after the next '>' ("<!--#rotate>", "<!-->"), else NULL:
 * the comment runs to the end of the text. */
const char *html_comment_end(const char *p, const char *end);
/* A marked section as HTML::Parser reads it (SpamAssassin turns
 * marked_sections on): "<![", names separated by blanks, "[". Its
 * content ends at the next "]]>". */
enum html_msect {
	HTML_MS_NONE,     /* not an opener: "<![if !mso]>", "<![endif]>" are
	                     bogus comments, up to the next '>' */
	HTML_MS_INCLUDE,  /* content is HTML (INCLUDE, TEMP, any other name) */
	HTML_MS_CDATA,    /* content is text as written (CDATA) */
	HTML_MS_RCDATA,   /* content is text, references decoded (RCDATA) */
	HTML_MS_IGNORE,   /* content is dropped (IGNORE) */
};
/* s[0..len) starts with "<!["; returns the kind of section it opens and
 * *open the opener's length (set only when not HTML_MS_NONE). */
enum html_msect html_marked_section(const char *s, size_t len, size_t *open);
/* Append s[0..len) to out with its character references decoded (as
 * html_render decodes attribute values; UTF-8). */
void html_decode_entities(const char *s, size_t len, struct arena_buf *out);

#endif
