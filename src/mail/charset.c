/* charset.c - charset conversion to UTF-8 on top of glibc iconv.
 *
 * UTF-8 and US-ASCII (most mail) take a validating fast path without
 * iconv; ISO-8859-1 is read as windows-1252 (what senders mean, as WHATWG
 * does) from a table. Everything else goes through iconv, with aliases for
 * the supersets mail clients really use (GB2312 -> GB18030, Shift_JIS ->
 * CP932, EUC-KR -> CP949). Invalid sequences become U+FFFD one byte at a
 * time; a name iconv does not know falls back to windows-1252. */
#include "mail/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "mail/mail.h"

/* windows-1252 0x80..0x9f; 0 = undefined (-> U+FFFD). */
static const unsigned short cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

int charset_put_utf8(struct buf *out, unsigned long cp)
{
	unsigned char s[4];
	size_t n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xc0 | (cp >> 6));
		s[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xe0 | (cp >> 12));
		s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (unsigned char)(0xf0 | (cp >> 18));
		s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, s, n);
}

static int put_cp1252(struct buf *out, unsigned char c)
{
	unsigned long cp = c;

	if (c >= 0x80 && c < 0xa0)
		cp = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : 0xfffd;
	return charset_put_utf8(out, cp);
}

size_t charset_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (len >= 2 && (s[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (len < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (len < 4 || (s[1] & 0xc0) != 0x80 ||
		    (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

bool charset_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = charset_utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* Appends valid UTF-8 s[0..n), cut at a character boundary when the
 * buffer is full. */
static int append_converted(struct buf *out, const char *s, size_t n)
{
	int r = buf_append(out, s, n);
	if (r == 0)
		return 0;
	size_t room = out->max > out->len ? out->max - out->len : 0;
	if (room > n)
		room = n;
	while (room > 0 && room < n &&
	       ((unsigned char)s[room] & 0xc0) == 0x80)
		room--;
	buf_append(out, s, room);
	return r;
}

/* UTF-8 in. An invalid byte is read as windows-1252 (the usual lie: a
 * Latin-1 mail labelled UTF-8), or with strict becomes U+FFFD. */
static int from_utf8(const char *in, size_t len, struct buf *out,
		     bool *bad_r, bool strict)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, run = 0;
	int r;

	while (i < len) {
		/* ASCII eight bytes at a time: most mail text is ASCII. */
		while (i + 8 <= len) {
			uint64_t w;
			memcpy(&w, p + i, sizeof(w));
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		size_t n = p[i] < 0x80 ? 1 : charset_utf8_seq(p + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		r = append_converted(out, in + run, i - run);
		if (r < 0)
			return r;
		*bad_r = true;
		r = strict ? charset_put_utf8(out, 0xfffd)
			   : put_cp1252(out, p[i]);
		if (r < 0)
			return r;
		i++;
		run = i;
	}
	return append_converted(out, in + run, i - run);
}

static int from_cp1252(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t run = 0;
	int r;

	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x80)
			continue;
		r = append_converted(out, in + run, i - run);
		if (r < 0)
			return r;
		r = put_cp1252(out, p[i]);
		if (r < 0)
			return r;
		run = i + 1;
	}
	return append_converted(out, in + run, len - run);
}

static int from_iconv(iconv_t cd, const char *in, size_t len,
		      struct buf *out, bool *bad_r)
{
	char tmp[4096];
	char *ip = (char *)in;
	size_t il = len;
	int r;

	for (;;) {
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t rc = il ? iconv(cd, &ip, &il, &op, &ol)
			       : iconv(cd, NULL, NULL, &op, &ol);
		int err = rc == (size_t)-1 ? errno : 0;
		r = append_converted(out, tmp, (size_t)(op - tmp));
		if (r < 0)
			return r;
		if (err == E2BIG)
			continue;
		if (err == EILSEQ || err == EINVAL) {
			/* Bad or cut sequence: one U+FFFD, skip a byte. */
			*bad_r = true;
			r = charset_put_utf8(out, 0xfffd);
			if (r < 0)
				return r;
			ip++;
			il--;
			iconv(cd, NULL, NULL, NULL, NULL);
			continue;
		}
		if (err != 0)
			return -EINVAL;
		if (il == 0 && rc != (size_t)-1) {
			/* Flush shift state once, then done. */
			op = tmp;
			ol = sizeof(tmp);
			iconv(cd, NULL, NULL, &op, &ol);
			return append_converted(out, tmp, (size_t)(op - tmp));
		}
	}
}

struct charset_alias {
	const char *name;
	const char *iconv_name; /* NULL: handled without iconv */
	int kind;
};

enum { CS_UTF8, CS_ASCII, CS_CP1252, CS_ICONV };

static const struct charset_alias aliases[] = {
	{ "utf-8", NULL, CS_UTF8 },
	{ "utf8", NULL, CS_UTF8 },
	{ "unicode-1-1-utf-8", NULL, CS_UTF8 },
	{ "us-ascii", NULL, CS_ASCII },
	{ "ascii", NULL, CS_ASCII },
	{ "ansi_x3.4-1968", NULL, CS_ASCII },
	{ "iso-8859-1", NULL, CS_CP1252 },
	{ "iso8859-1", NULL, CS_CP1252 },
	{ "iso_8859-1", NULL, CS_CP1252 },
	{ "latin1", NULL, CS_CP1252 },
	{ "l1", NULL, CS_CP1252 },
	{ "windows-1252", NULL, CS_CP1252 },
	{ "cp1252", NULL, CS_CP1252 },
	{ "x-cp1252", NULL, CS_CP1252 },
	{ "gb2312", "GB18030", CS_ICONV },
	{ "gbk", "GB18030", CS_ICONV },
	{ "x-gbk", "GB18030", CS_ICONV },
	{ "cp936", "GB18030", CS_ICONV },
	{ "euc-cn", "GB18030", CS_ICONV },
	{ "shift_jis", "CP932", CS_ICONV },
	{ "shift-jis", "CP932", CS_ICONV },
	{ "sjis", "CP932", CS_ICONV },
	{ "x-sjis", "CP932", CS_ICONV },
	{ "windows-31j", "CP932", CS_ICONV },
	{ "euc-kr", "CP949", CS_ICONV },
	{ "ks_c_5601-1987", "CP949", CS_ICONV },
	{ "iso-2022-jp", "ISO-2022-JP-2", CS_ICONV },
	{ "big5", "BIG5-HKSCS", CS_ICONV },
	{ "iso-8859-8-i", "ISO-8859-8", CS_ICONV },
};

static void charset_normalize(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	while (*in == ' ' || *in == '\t' || *in == '"' || *in == '\'')
		in++;
	for (; *in && n + 1 < outsz; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\'' || c == ' ' || c == '\t' ||
		    c == ';')
			break;
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
}

int charset_to_utf8(const char *charset, const char *in, size_t len,
		    struct buf *out, unsigned *defects_r)
{
	char name[64];
	int kind = CS_ASCII;
	const char *iconv_name = NULL;
	bool bad = false;
	int r;

	charset_normalize(charset ? charset : "", name, sizeof(name));
	if (name[0] != '\0') {
		kind = CS_ICONV;
		iconv_name = name;
		for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]);
		     i++) {
			if (strcmp(aliases[i].name, name) == 0) {
				kind = aliases[i].kind;
				iconv_name = aliases[i].iconv_name;
				break;
			}
		}
	}
	switch (kind) {
	case CS_UTF8:
		r = from_utf8(in, len, out, &bad, false);
		break;
	case CS_ASCII:
		/* Declared (or defaulted) ASCII with 8-bit bytes: they are
		 * UTF-8 far more often than not, else windows-1252. */
		r = from_utf8(in, len, out, &bad, false);
		if (name[0] != '\0') {
			for (size_t i = 0; i < len && !bad; i++)
				if ((unsigned char)in[i] >= 0x80)
					bad = true;
		}
		break;
	case CS_CP1252:
		r = from_cp1252(in, len, out);
		break;
	default: {
		/* Names are tokens; anything else is not a charset. */
		bool token = true;
		for (const char *q = iconv_name; *q && token; q++)
			token = (*q >= 'a' && *q <= 'z') ||
				(*q >= '0' && *q <= '9') ||
				strchr("-_.:()+", *q) ||
				(*q >= 'A' && *q <= 'Z');
		iconv_t cd = token ? iconv_open("UTF-8", iconv_name)
				   : (iconv_t)-1;
		if (cd == (iconv_t)-1) {
			bad = true;
			r = from_cp1252(in, len, out);
			break;
		}
		size_t start = out->len;
		r = from_iconv(cd, in, len, out, &bad);
		iconv_close(cd);
		/* glibc's UTF-8 output is not strictly valid for every input
		 * (a "UTF-8" source lets code points past U+10FFFF through):
		 * check, and replace what is invalid. */
		if (out->data && !charset_utf8_valid(out->data + start,
						     out->len - start)) {
			/* A copy of all n bytes: the output may hold NULs
			 * (U+0000 is valid input), where xstrndup would stop
			 * and leave from_utf8 reading past the copy. */
			size_t n = out->len - start;
			char *copy = xmalloc(n + 1);
			memcpy(copy, out->data + start, n);
			copy[n] = '\0';
			out->len = start;
			out->data[start] = '\0';
			r = from_utf8(copy, n, out, &bad, true);
			free(copy);
			bad = true;
		}
		break;
	}
	}
	if (bad && defects_r)
		*defects_r |= MAIL_DEFECT_CHARSET;
	return r;
}
