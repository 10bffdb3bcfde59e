/* Text validators: the rules are in text.h. */
#include <stdint.h>
#include <string.h>
#include "util/text.h"

#define TIME_SHAPE "dddd-dd-ddTdd:dd:dd"   /* then [.digits] and "Z" */
#define TIME_FRAC 19                       /* offset of the '.' or 'Z' */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool ctrl_refused(unsigned char c, enum cf_text_ctrl ctrl)
{
	if (ctrl == CF_TEXT_CTRL_JSON)
		return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
	return c < 0x20 || c == 0x7f;
}

size_t cf_text_bad_at(const char *p, size_t n, enum cf_text_ctrl ctrl,
		      bool *is_ctrl)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, len;
	uint32_t cp, min;

	if (is_ctrl)
		*is_ctrl = false;
	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			if (ctrl_refused(c, ctrl)) {
				if (is_ctrl)
					*is_ctrl = true;
				return i;
			}
			i++;
			continue;
		}
		/* RFC 3629 section 4: C0, C1 and F5-FF never start one. */
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2; min = 0x80; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3; min = 0x800; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4; min = 0x10000; cp = c & 0x07;
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

bool cf_text_ok(const char *s, size_t min, size_t cap)
{
	size_t n;

	if (!s || cap == 0)
		return false;
	n = strnlen(s, cap);
	return n >= min && n < cap &&
	       cf_text_bad_at(s, n, CF_TEXT_CTRL_NONE, NULL) == n;
}

const char *cf_text_host_id_why(const char *s, size_t cap)
{
	size_t n = s ? strnlen(s, cap) : 0;

	if (n == 0)
		return "is empty";
	if (n >= cap)
		return "is too long for a host id";
	if (cf_text_bad_at(s, n, CF_TEXT_CTRL_NONE, NULL) != n)
		return "is not UTF-8 text without control characters";
	/* Hosts are named as one path segment, /v1/hosts/{id}: a '/' or a
	 * dot segment (RFC 3986 section 5.2.4) could be stored but never be
	 * read, labelled or checked. */
	if (strchr(s, '/'))
		return "contains '/', which no /v1/hosts/{id} path can name";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "is '.' or '..', which no /v1/hosts/{id} path can name";
	return NULL;
}

bool cf_text_name_ok(const char *s, size_t cap)
{
	size_t n = s && cap ? strnlen(s, cap) : 0;

	if (n == 0 || n >= cap || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._-") == n;
}

static int num(const char *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* RFC 3339 appendix C. */
static int month_days(int year, int month)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

	return month == 2 && leap ? 29 : days[month - 1];
}

/* The length of time T (at most CAP-1 bytes) and the number of its
 * fraction digits, or 0. */
static size_t time_len(const char *t, size_t cap, size_t *digits)
{
	size_t i, n, frac = 0;
	int month, day;

	if (!t || cap == 0)
		return 0;
	n = strnlen(t, cap);
	if (n >= cap || n < sizeof(TIME_SHAPE))
		return 0;
	for (i = 0; i < TIME_FRAC; i++)
		if (TIME_SHAPE[i] == 'd' ? !is_digit(t[i])
					 : t[i] != TIME_SHAPE[i])
			return 0;
	if (t[i] == '.') {
		frac = strspn(t + i + 1, "0123456789");
		if (frac == 0)
			return 0;
		i += 1 + frac;
	}
	if (t[i] != 'Z' || i + 1 != n)
		return 0;
	month = num(t + 5, 2);
	day = num(t + 8, 2);
	if (month < 1 || month > 12 || day < 1 ||
	    day > month_days(num(t, 4), month) || num(t + 11, 2) > 23 ||
	    num(t + 14, 2) > 59 || num(t + 17, 2) > 59)
		return 0;
	*digits = frac;
	return n;
}

bool cf_text_time_ok(const char *t, size_t cap)
{
	size_t digits;

	return time_len(t, cap, &digits) != 0;
}

bool cf_text_time_norm(const char *t, unsigned digits, char *out,
		       size_t len)
{
	size_t have, keep;

	if (digits < 1 || digits > 9 || time_len(t, len, &have) == 0 ||
	    len < TIME_FRAC + 1 + digits + 2)
		return false;
	keep = have < digits ? have : digits;
	memcpy(out, t, TIME_FRAC);
	out[TIME_FRAC] = '.';
	memcpy(out + TIME_FRAC + 1, t + TIME_FRAC + 1, keep);
	memset(out + TIME_FRAC + 1 + keep, '0', digits - keep);
	out[TIME_FRAC + 1 + digits] = 'Z';
	out[TIME_FRAC + 2 + digits] = '\0';
	return true;
}
