/*
 * htmlstyle.h — SpamAssassin's text style of HTML (HTML.pm's
 * text_style() stack and html_font_invisible()).
 *
 * Contract: the caller feeds every start and end tag of one HTML text,
 * in order, as HTML::Parser reports them (name in lower case, its
 * attributes through a lookup function; a self-closing tag is a start
 * tag, as HTML.pm reads it). Between two tags, htmlstyle_font() and
 * htmlstyle_invisible() say what html_font_invisible() says of a text
 * node drawn there; HTML.pm asks only for text holding something other
 * than blanks (that test is the caller's). Only the elements HTML.pm
 * styles with change the state (body font table tr th td big small
 * basefont marquee span p div a; th as td); others are ignored.
 *
 * The model is SpamAssassin's, not a browser's: body text= and
 * font/basefont color= set the colour, style="color / background-color
 * / background / display / visibility" on table, tr, td, th, span, p,
 * div and a; bgcolor= attributes are read but ignored (as HTML.pm
 * does); the size is <font size> (absolute, or relative to <basefont
 * size>), <big> and <small>, never CSS font-size. Default: black on
 * white, size 3. Colours are HTML.pm's name_to_rgb (CSS 3 names, #hex of
 * any length, rgb()).
 */
#ifndef VIGIL_HTMLSTYLE_H
#define VIGIL_HTMLSTYLE_H

#include <stdbool.h>
#include <stddef.h>

struct htmlstyle;

/* Finds attribute name (lower case) of the current tag: its value in
 * *v[0..*vl) (as HTML::Parser hands it over, or as written: the
 * caller's choice); false when the tag has none. */
typedef bool (*htmlstyle_attr_fn)(const void *ctx, const char *name,
                                  const char **v, size_t *vl);

/* A new style stack (default style only); NULL when out of memory. */
struct htmlstyle *htmlstyle_new(void);
void htmlstyle_free(struct htmlstyle *s);

/* Start (open) or end tag name; attr/ctx read its attributes (unused
 * for an end tag, may be NULL then). */
void htmlstyle_tag(struct htmlstyle *s, const char *name, bool open,
                   htmlstyle_attr_fn attr, const void *ctx);

/* What html_font_invisible() reports for text drawn now: low contrast
 * (colour equal or near its background; checked first), else an
 * invalid colour; 0 for neither. */
enum { HTMLSTYLE_LOW_CONTRAST = 1, HTMLSTYLE_INVALID_COLOR = 2 };
unsigned htmlstyle_font(const struct htmlstyle *s);

/* html_font_invisible() for text drawn now: a htmlstyle_font() flag,
 * or size <= 1, or style display "none" or visibility "hidden". */
bool htmlstyle_invisible(const struct htmlstyle *s);

/* The largest font size an attribute has set so far (HTML.pm's
 * max_size, 3 at the start). */
long htmlstyle_max_size(const struct htmlstyle *s);

#endif
