/* Text validators shared by the library, the storage, the server and the
 * tools: one rule each, limits as parameters.  A CAP is a buffer size in
 * bytes including the NUL, so the text may be at most CAP-1 bytes.
 *
 * The rules (tests/unit/test_text.c holds the cases, from the standards):
 *  - UTF-8 is RFC 3629 section 4: shortest form only, no surrogates
 *    (U+D800-U+DFFF), nothing above U+10FFFF.
 *  - Control characters: in plain text none of C0 (0x00-0x1f) nor DEL
 *    (0x7f); in JSON text (RFC 8259 section 2 and 7) tab, LF and CR may
 *    stand as whitespace between tokens and DEL is allowed, the other C0
 *    characters are not.
 *  - A name (pools, profiles) is 1 to CAP-1 of A-Z a-z 0-9 . _ - and neither
 *    "." nor "..", which RFC 3986 section 5.2.4 removes from paths, so no
 *    URL could name them (README, "HTTP API").
 *  - A time is RFC 3339 section 5.6's date-time in UTC:
 *    "YYYY-MM-DDTHH:MM:SS[.F]Z" where .F is one or more digits (1*DIGIT,
 *    as many as fit CAP), the day is checked against the month and leap
 *    years (section 5.7 and appendix C), hours 00-23, minutes 00-59.
 *    Narrower than RFC 3339 where storage needs it, on purpose: only "Z"
 *    (UTC, the only offset stored; numeric offsets are refused), only upper
 *    case "T" and "Z" (section 5.6's NOTE lets an application require
 *    them), and no leap second 60 (POSIX clocks never produce one, and
 *    SQLite's julianday(), which orders stored times, cannot read it). */
#ifndef CF_TEXT_H
#define CF_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Which control characters text may hold. */
enum cf_text_ctrl {
	CF_TEXT_CTRL_NONE = 0,  /* no C0, no DEL */
	CF_TEXT_CTRL_JSON = 1,  /* tab, LF, CR and DEL; no other C0 */
};

/* The offset of the first byte of S[0..N) that is not UTF-8 or is a
 * control character CTRL refuses, else N.  *IS_CTRL (if not NULL) says
 * whether it was a control character. */
size_t cf_text_bad_at(const char *s, size_t n, enum cf_text_ctrl ctrl,
		      bool *is_ctrl);
/* S holds MIN to CAP-1 bytes of UTF-8 without control characters. */
bool cf_text_ok(const char *s, size_t min, size_t cap);
/* S is a name of at most CAP-1 bytes (rule above). */
bool cf_text_name_ok(const char *s, size_t cap);
/* Why S cannot be a host id of at most CAP-1 bytes, or NULL if it can:
 * UTF-8 text without control characters, and one path segment of
 * /v1/hosts/{id}: no '/', neither "." nor "..". */
const char *cf_text_host_id_why(const char *s, size_t cap);
/* T is a time of at most CAP-1 bytes (rule above). */
bool cf_text_time_ok(const char *t, size_t cap);
/* T (a time, cf_text_time_ok with CAP LEN) written to OUT (LEN bytes)
 * with exactly DIGITS (1 to 9) fraction digits: missing ones are zeros,
 * further ones are dropped.  False if T is not a time or the result does
 * not fit. */
bool cf_text_time_norm(const char *t, unsigned digits, char *out,
		       size_t len);

#endif
