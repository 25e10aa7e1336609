/* mail.c - mail_decode(): the libetpan MIME walk and what it produces.
 *
 * Order of work: size and header limits, the nesting pre-scan
 * (prescan.c), mailmime_parse(), a walk of the tree that decodes every
 * text/plain and text/html part (transfer encoding by the one-pass
 * decoders here, charset by charset.c, HTML by html.c, cleanup by
 * text.c) and re-parses
 * message/rfc822 parts as messages of their own, then forward unwrapping
 * (attached messages first, then inline blocks, then forwarding headers).
 * No global state: each call owns everything it allocates. */
#include "mail/mail.h"

#include <errno.h>
#include <libetpan/libetpan.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/charset.h"
#include "mail/forward.h"
#include "mail/header.h"
#include "mail/html.h"
#include "mail/html_xml.h"
#include "mail/prescan.h"
#include "mail/text.h"

/* Bytes of zero padding after any buffer handed to libetpan. */
#define MAIL_PAD 16

/* One message: the outer one (index 0) or one attached as rfc822. */
struct msg_info {
	struct mail_address from;
	char *subject;
	char *date;
	int parent;
};

struct walker {
	struct decoded_message *msg;
	size_t parts_cap;
	int *part_msg;      /* message index of each part */
	struct msg_info *msgs;
	size_t n_msgs;
	int cur;            /* index of the message being walked */
	unsigned n_nodes;
	size_t budget;      /* decoded text still allowed */
	const char *reason;
};

static int walk(struct walker *w, struct mailmime *m, unsigned depth);

static void address_free(struct mail_address *a)
{
	free(a->name);
	free(a->addr);
	a->name = NULL;
	a->addr = NULL;
}

static void address_copy(struct mail_address *dst,
			 const struct mail_address *src)
{
	dst->name = xstrdup(src->name ? src->name : "");
	dst->addr = xstrdup(src->addr ? src->addr : "");
}

void mail_free(struct decoded_message **msgp)
{
	struct decoded_message *m;

	if (msgp == NULL || *msgp == NULL)
		return;
	m = *msgp;
	address_free(&m->from);
	free(m->subject);
	free(m->date);
	free(m->message_id);
	for (size_t i = 0; i < m->n_recipients; i++)
		free(m->recipients[i]);
	free(m->recipients);
	address_free(&m->orig_from);
	free(m->orig_subject);
	free(m->orig_date);
	free(m->forward_kind);
	for (size_t i = 0; i < m->n_parts; i++) {
		free(m->parts[i].text);
		free(m->parts[i].content_type);
	}
	free(m->parts);
	free(m->text);
	for (size_t i = 0; i < m->n_links; i++) {
		free(m->links[i].url);
		free(m->links[i].text);
	}
	free(m->links);
	for (size_t i = 0; i < m->n_jsonld; i++)
		free(m->jsonld[i]);
	free(m->jsonld);
	for (size_t i = 0; i < m->n_attachments; i++)
		free(m->attachments[i]);
	free(m->attachments);
	free(m);
	*msgp = NULL;
}

/* "type/subtype" in lower case into out; "text/plain" when absent. */
static void content_type_str(const struct mailmime_content *ct, char *out,
			     size_t size)
{
	const char *type = "text";
	const char *sub = "plain";

	if (ct && ct->ct_type) {
		const struct mailmime_type *t = ct->ct_type;
		if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
		    t->tp_data.tp_discrete_type) {
			switch (t->tp_data.tp_discrete_type->dt_type) {
			case MAILMIME_DISCRETE_TYPE_TEXT:
				type = "text";
				break;
			case MAILMIME_DISCRETE_TYPE_IMAGE:
				type = "image";
				break;
			case MAILMIME_DISCRETE_TYPE_AUDIO:
				type = "audio";
				break;
			case MAILMIME_DISCRETE_TYPE_VIDEO:
				type = "video";
				break;
			case MAILMIME_DISCRETE_TYPE_APPLICATION:
				type = "application";
				break;
			default:
				type = t->tp_data.tp_discrete_type->dt_extension
					       ? t->tp_data.tp_discrete_type
							 ->dt_extension
					       : "x-unknown";
				break;
			}
		} else if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
			   t->tp_data.tp_composite_type) {
			switch (t->tp_data.tp_composite_type->ct_type) {
			case MAILMIME_COMPOSITE_TYPE_MESSAGE:
				type = "message";
				break;
			case MAILMIME_COMPOSITE_TYPE_MULTIPART:
				type = "multipart";
				break;
			default:
				type = t->tp_data.tp_composite_type
					       ->ct_token
					       ? t->tp_data.tp_composite_type
							 ->ct_token
					       : "x-unknown";
				break;
			}
		}
		sub = ct->ct_subtype ? ct->ct_subtype : "";
	}
	size_t n = 0;
	for (const char *s = type; *s && n + 2 < size; s++)
		out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	out[n++] = '/';
	for (const char *s = sub; *s && n + 1 < size; s++)
		out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	out[n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable with RFC 2045's robustness rule: an "=" that starts
 * neither a hex pair nor a soft line break is kept as it is. libetpan's
 * decoder drops the rest of the line after such an "=" (a real Walmart
 * mail with "redirectTo=xxxxx" in a link lost the order number that
 * followed it) and over-reads by one byte at the end (LIBRARIES.md 2.6).
 * Never writes more than len bytes. *bad_r is set for a broken escape:
 * an "=" at the very end, or one followed by something that is neither
 * a hex pair nor a blank or line break. */
static size_t qp_decode(const char *in, size_t len, char *out, bool *bad_r)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			/* Copy the run up to the next "=" at once. */
			const char *eq = memchr(in + i, '=', len - i);
			size_t run = eq ? (size_t)(eq - (in + i)) : len - i;
			memcpy(out + o, in + i, run);
			o += run;
			i += run - 1;
			continue;
		}
		/* Soft break: "=" then optional blanks, then (CR)LF or end. */
		size_t j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j == len || in[j] == '\n' ||
		    (in[j] == '\r' && (j + 1 == len || in[j + 1] == '\n'))) {
			if (i + 1 == len)
				*bad_r = true; /* "=" as the last byte */
			if (j < len && in[j] == '\r')
				j++;
			i = j; /* the loop's i++ steps past the LF */
			continue;
		}
		int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
		int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
		if (hi >= 0 && lo >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			char next = in[i + 1];
			if (next != ' ' && next != '\t' && next != '\r' &&
			    next != '\n')
				*bad_r = true;
			out[o++] = in[i]; /* a stray "=": kept */
		}
	}
	return o;
}

/* base64 values as pre-shifted 24-bit contributions, built by the
 * preprocessor so they stay constant: an alphabet byte gives its value
 * shifted into place, any other byte B64_BAD_BIT. b64_shift0 is also the
 * plain value table of the byte-at-a-time path. */
#define B64_BAD_BIT 0x80000000u
#define B64_VAL(c)                                                         \
	((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                            \
	 : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                       \
	 : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                       \
	 : (c) == '+'               ? 62                                   \
	 : (c) == '/'               ? 63                                   \
				    : -1)
#define B64_SHIFTED(c, s)                                                  \
	(B64_VAL(c) < 0 ? B64_BAD_BIT : (uint32_t)B64_VAL(c) << (s))
#define B64_R4(c, s)                                                       \
	B64_SHIFTED((c), s), B64_SHIFTED((c) + 1, s),                      \
		B64_SHIFTED((c) + 2, s), B64_SHIFTED((c) + 3, s)
#define B64_R16(c, s)                                                      \
	B64_R4((c), s), B64_R4((c) + 4, s), B64_R4((c) + 8, s),           \
		B64_R4((c) + 12, s)
#define B64_R64(c, s)                                                      \
	B64_R16((c), s), B64_R16((c) + 16, s), B64_R16((c) + 32, s),      \
		B64_R16((c) + 48, s)
#define B64_R256(s)                                                        \
	B64_R64(0, s), B64_R64(64, s), B64_R64(128, s), B64_R64(192, s)
static const uint32_t b64_shift18[256] = { B64_R256(18) };
static const uint32_t b64_shift12[256] = { B64_R256(12) };
static const uint32_t b64_shift6[256] = { B64_R256(6) };
static const uint32_t b64_shift0[256] = { B64_R256(0) };

/* base64 exactly as libetpan's mailmime_base64_body_parse() reads it
 * (so decisions do not change): every byte outside the alphabet is
 * skipped, "=" included; a trailing group of 1 or 2 characters gives one
 * byte, of 3 two. One pass, four characters at a time on clean input.
 * *bad_r is set for noise (not alphabet, "=" or blank) or a number of
 * alphabet and "=" characters that is not a multiple of four. out holds
 * at least len / 4 * 3 + 3 bytes. */
static size_t b64_decode(const char *in, size_t len, char *out, bool *bad_r)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char group[4] = { 0, 0, 0, 0 };
	unsigned n = 0;
	size_t o = 0, counted = 0, i = 0;
	bool noise = false;

	while (i < len) {
		if (n == 0 && i + 4 <= len) {
			/* Four characters into 24 bits by table: an invalid
			 * one sets bit 31, then the slow path below. */
			uint32_t v = b64_shift18[p[i]] | b64_shift12[p[i + 1]] |
				     b64_shift6[p[i + 2]] | b64_shift0[p[i + 3]];
			if (!(v & B64_BAD_BIT)) {
				out[o] = (char)(v >> 16);
				out[o + 1] = (char)(v >> 8);
				out[o + 2] = (char)v;
				o += 3;
				i += 4;
				counted += 4;
				continue;
			}
		}
		unsigned char ch = p[i++];
		uint32_t v = b64_shift0[ch];
		if (!(v & B64_BAD_BIT)) {
			counted++;
			group[n++] = (unsigned char)v;
			if (n == 4) {
				out[o++] = (char)(group[0] << 2 | group[1] >> 4);
				out[o++] = (char)(group[1] << 4 | group[2] >> 2);
				out[o++] = (char)(group[2] << 6 | group[3]);
				n = 0;
				memset(group, 0, sizeof(group));
			}
		} else if (ch == '=') {
			counted++;
		} else if (ch != '\r' && ch != '\n' && ch != ' ' &&
			   ch != '\t') {
			noise = true;
		}
	}
	if (n > 0) {
		out[o++] = (char)(group[0] << 2 | group[1] >> 4);
		if (n == 3)
			out[o++] = (char)(group[1] << 4 | group[2] >> 2);
	}
	if (noise || counted % 4 != 0)
		*bad_r = true;
	return o;
}

/* Transfer-decodes a part body. *out points into the raw buffer
 * (7bit, 8bit, binary: *heap_r false) or to a heap buffer holding the
 * decoded bytes and a NUL (base64, quoted-printable: *heap_r true, the
 * caller frees it). Both decoders are ours, one pass each, and flag
 * broken encoding as they go. */
static void transfer_decode(struct walker *w, const struct mailmime_data *d,
			    int enc, const char **out, size_t *outlen,
			    bool *heap_r)
{
	const char *data = d->dt_data.dt_text.dt_data;
	size_t len = d->dt_data.dt_text.dt_length;
	bool bad = false;

	*heap_r = false;
	*out = data ? data : "";
	*outlen = data ? len : 0;
	if (data == NULL || len == 0)
		return;
	if (enc != MAILMIME_MECHANISM_BASE64 &&
	    enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		return;
	char *tmp = xmalloc(len + 4);
	size_t n = enc == MAILMIME_MECHANISM_BASE64
			   ? b64_decode(data, len, tmp, &bad)
			   : qp_decode(data, len, tmp, &bad);
	tmp[n] = '\0';
	if (bad)
		w->msg->defects |= MAIL_DEFECT_BAD_ENCODING;
	*out = tmp;
	*outlen = n;
	*heap_r = true;
}

static void add_part(struct walker *w, struct buf *text, bool from_html,
		     const char *ctype, unsigned depth)
{
	struct decoded_message *m = w->msg;

	if (m->n_parts == w->parts_cap) {
		w->parts_cap = w->parts_cap ? w->parts_cap * 2 : 4;
		m->parts = xrealloc(m->parts, w->parts_cap * sizeof(*m->parts));
		w->part_msg = xrealloc(w->part_msg,
				       w->parts_cap * sizeof(*w->part_msg));
	}
	struct mail_part *p = &m->parts[m->n_parts];
	p->len = text->len;
	p->text = buf_steal(text);
	p->from_html = from_html;
	p->content_type = xstrdup(ctype);
	p->depth = (int)depth;
	w->part_msg[m->n_parts] = w->cur;
	m->n_parts++;
	w->budget = w->budget > p->len ? w->budget - p->len : 0;
}

static void add_attachment(struct walker *w, struct mailmime *m)
{
	struct decoded_message *msg = w->msg;
	char *name = NULL;
	const struct mailmime_data *b = m->mm_body;

	if (msg->n_attachments >= LIMIT_MIME_PARTS)
		return;
	/* The part's own header section: from its start to its body. */
	if (m->mm_mime_start && b && b->dt_type == MAILMIME_DATA_TEXT &&
	    b->dt_data.dt_text.dt_data >= m->mm_mime_start) {
		struct header_list h;
		const char *reason = NULL;
		size_t hl = (size_t)(b->dt_data.dt_text.dt_data -
				     m->mm_mime_start);
		if (header_scan(m->mm_mime_start, hl, &h, &reason) == 0) {
			name = header_param(header_get(&h,
						       "Content-Disposition"),
					    "filename", &msg->defects);
			if (name == NULL)
				name = header_param(header_get(&h,
							       "Content-Type"),
						    "name", &msg->defects);
		}
		header_list_free(&h);
	}
	msg->attachments = xrealloc(msg->attachments,
				    (msg->n_attachments + 1) * sizeof(char *));
	msg->attachments[msg->n_attachments++] = name ? name : xstrdup("");
}

static int decode_text(struct walker *w, struct mailmime *m,
		       const struct mailmime_single_fields *sf,
		       const char *ctype, unsigned depth)
{
	bool html = strcmp(ctype, "text/html") == 0;
	int enc = sf->fld_encoding ? sf->fld_encoding->enc_type
				   : MAILMIME_MECHANISM_7BIT;
	const char *data;
	size_t len;
	bool heap;
	struct buf utf8, conv, clean;
	int r;

	buf_init(&utf8, LIMIT_DECODED_TEXT * 2);
	buf_init(&conv, LIMIT_DECODED_TEXT * 2);
	buf_init(&clean, w->budget);
	if (m->mm_data.mm_single == NULL ||
	    m->mm_data.mm_single->dt_type != MAILMIME_DATA_TEXT) {
		add_part(w, &clean, html, ctype, depth);
		return 0;
	}
	transfer_decode(w, m->mm_data.mm_single, enc, &data, &len, &heap);
	const char *cs = sf->fld_content_charset;
	char sniffed[64];
	if ((cs == NULL || cs[0] == '\0') && html &&
	    html_sniff_charset(data, len, sniffed, sizeof(sniffed)))
		cs = sniffed;
	if (charset_to_utf8(cs, data, len, &utf8, &w->msg->defects) < 0)
		w->msg->defects |= MAIL_DEFECT_TEXT_CUT;
	if (heap)
		free((char *)data);
	if (html) {
		/* Test hook (docs/testing.md): the libxml2 converter, for
		 * tests/mail/html_compare.sh. */
		r = getenv("TRACKMAIL_TEST_HTML_XML")
			    ? html_xml_to_text(buf_cstr(&utf8), utf8.len, &conv,
					       w->msg, &w->reason)
			    : html_to_text(buf_cstr(&utf8), utf8.len, &conv,
					   w->msg, &w->reason);
		if (r == -ELOOP) {
			buf_free(&utf8);
			buf_free(&conv);
			return r;
		}
		if (r < 0)
			w->msg->defects |= MAIL_DEFECT_TEXT_CUT;
	} else {
		text_find_urls(w->msg, buf_cstr(&utf8), utf8.len);
	}
	const struct buf *src = html ? &conv : &utf8;
	if (text_clean(buf_cstr(src), src->len, &clean) < 0)
		w->msg->defects |= MAIL_DEFECT_TEXT_CUT;
	buf_free(&utf8);
	buf_free(&conv);
	add_part(w, &clean, html, ctype, depth);
	return 0;
}

/* Walks an attached message: raw[0..len) is the whole message (headers
 * and body), root its parsed tree (MESSAGE node), depth its level. */
static int embedded(struct walker *w, const char *raw, size_t len,
		    struct mailmime *body, unsigned depth)
{
	struct header_list h;
	const char *reason = NULL;
	int r = header_scan(raw, len, &h, &reason);

	if (r < 0) {
		header_list_free(&h);
		w->reason = reason;
		return r;
	}
	if (h.has_8bit)
		w->msg->defects |= MAIL_DEFECT_8BIT_HEADER;
	w->msgs = xrealloc(w->msgs, (w->n_msgs + 1) * sizeof(*w->msgs));
	struct msg_info *mi = &w->msgs[w->n_msgs];
	header_parse_mailbox(header_get(&h, "From"), &mi->from,
			     &w->msg->defects);
	mi->subject = header_decode_dup(header_get(&h, "Subject"),
					&w->msg->defects);
	mi->date = header_decode_dup(header_get(&h, "Date"), &w->msg->defects);
	mi->parent = w->cur;
	header_list_free(&h);
	int saved = w->cur;
	w->cur = (int)w->n_msgs++;
	r = body ? walk(w, body, depth) : 0;
	w->cur = saved;
	return r;
}

/* message/rfc822 that libetpan left as SINGLE (it was base64/QP encoded):
 * decode it and parse it as a message of its own. */
static int reparse_message(struct walker *w, struct mailmime *m,
			   const struct mailmime_single_fields *sf,
			   unsigned depth)
{
	int enc = sf->fld_encoding ? sf->fld_encoding->enc_type
				   : MAILMIME_MECHANISM_7BIT;
	const char *data;
	size_t len;
	bool heap;
	int r = 0;

	if (m->mm_data.mm_single == NULL ||
	    m->mm_data.mm_single->dt_type != MAILMIME_DATA_TEXT)
		return 0;
	transfer_decode(w, m->mm_data.mm_single, enc, &data, &len, &heap);
	/* Our own padded copy: libetpan may read past the end. */
	char *copy = xmalloc(len + MAIL_PAD);
	memcpy(copy, data, len);
	memset(copy + len, 0, MAIL_PAD);
	if (heap)
		free((char *)data);
	r = prescan_check(copy, len, LIMIT_MIME_DEPTH - depth, NULL, NULL,
			  &w->reason);
	if (r == 0) {
		size_t idx = 0;
		struct mailmime *root = NULL;
		if (mailmime_parse(copy, len, &idx, &root) ==
			    MAILIMF_NO_ERROR &&
		    root != NULL) {
			struct mailmime *body =
				root->mm_type == MAILMIME_MESSAGE
					? root->mm_data.mm_message.mm_msg_mime
					: root;
			r = embedded(w, copy, len, body, depth);
			mailmime_free(root);
		}
	}
	free(copy);
	return r;
}

static int walk_single(struct walker *w, struct mailmime *m, unsigned depth)
{
	struct mailmime_single_fields sf;
	char ctype[128];

	memset(&sf, 0, sizeof(sf));
	mailmime_single_fields_init(&sf, m->mm_mime_fields, m->mm_content_type);
	content_type_str(m->mm_content_type, ctype, sizeof(ctype));
	if (strcmp(ctype, "message/rfc822") == 0 ||
	    strcmp(ctype, "message/global") == 0) {
		if (depth + 1 > LIMIT_MIME_DEPTH) {
			w->reason = "limit:mime-depth";
			return -ELOOP;
		}
		return reparse_message(w, m, &sf, depth + 1);
	}
	bool attachment = sf.fld_disposition && sf.fld_disposition->dsp_type &&
			  sf.fld_disposition->dsp_type->dsp_type ==
				  MAILMIME_DISPOSITION_TYPE_ATTACHMENT;
	bool is_text = strcmp(ctype, "text/plain") == 0 ||
		       strcmp(ctype, "text/html") == 0;
	if (is_text && !(attachment && (sf.fld_disposition_filename ||
					sf.fld_content_name)))
		return decode_text(w, m, &sf, ctype, depth);
	add_attachment(w, m);
	return 0;
}

static int walk(struct walker *w, struct mailmime *m, unsigned depth)
{
	if (++w->n_nodes > LIMIT_MIME_PARTS) {
		w->reason = "limit:mime-parts";
		return -E2BIG;
	}
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		return walk_single(w, m, depth);
	case MAILMIME_MULTIPLE: {
		if (depth + 1 > LIMIT_MIME_DEPTH) {
			w->reason = "limit:mime-depth";
			return -ELOOP;
		}
		clist *list = m->mm_data.mm_multipart.mm_mp_list;
		for (clistiter *it = list ? clist_begin(list) : NULL; it;
		     it = clist_next(it)) {
			int r = walk(w, clist_content(it), depth + 1);
			if (r < 0)
				return r;
		}
		return 0;
	}
	case MAILMIME_MESSAGE: {
		if (depth + 1 > LIMIT_MIME_DEPTH) {
			w->reason = "limit:mime-depth";
			return -ELOOP;
		}
		const struct mailmime_data *b = m->mm_body;
		if (b == NULL || b->dt_type != MAILMIME_DATA_TEXT)
			return 0;
		return embedded(w, b->dt_data.dt_text.dt_data,
				b->dt_data.dt_text.dt_length,
				m->mm_data.mm_message.mm_msg_mime, depth + 1);
	}
	default:
		return 0;
	}
}

/* Sets the outer header values from the scanned header section. */
static void outer_headers(struct decoded_message *msg,
			  const struct header_list *h)
{
	header_parse_mailbox(header_get(h, "From"), &msg->from, &msg->defects);
	msg->subject = header_decode_dup(header_get(h, "Subject"),
					 &msg->defects);
	msg->date = header_decode_dup(header_get(h, "Date"), &msg->defects);
	char *mid = header_decode_dup(header_get(h, "Message-ID"),
				      &msg->defects);
	char *s = mid;
	while (*s == '<' || *s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '>' || s[n - 1] == ' '))
		n--;
	msg->message_id = xstrndup(s, n);
	free(mid);
	/* X-Forwarded-To: Gmail's automatic forwarding names the address it
	 * forwards to (the seller's t-<token>@ address) there. */
	static const char *const rcpt[] = { "Delivered-To", "X-Original-To",
					    "X-Forwarded-To", "To", "Cc" };
	for (size_t k = 0; k < sizeof(rcpt) / sizeof(*rcpt); k++) {
		for (size_t i = 0; i < h->n; i++) {
			if (strcasecmp(h->fields[i].name, rcpt[k]) != 0)
				continue;
			size_t before = msg->n_recipients;
			header_parse_addr_list(h->fields[i].value,
					       &msg->recipients,
					       &msg->n_recipients,
					       LIMIT_RECIPIENTS);
			/* Drop duplicates of earlier entries. */
			for (size_t j = before; j < msg->n_recipients;) {
				bool dup = false;
				for (size_t q = 0; q < j && !dup; q++)
					dup = strcmp(msg->recipients[q],
						     msg->recipients[j]) == 0;
				if (!dup) {
					j++;
					continue;
				}
				free(msg->recipients[j]);
				memmove(&msg->recipients[j],
					&msg->recipients[j + 1],
					(msg->n_recipients - j - 1) *
						sizeof(char *));
				msg->n_recipients--;
			}
		}
	}
}

/* Decides the original sender: attached messages, then inline blocks,
 * then forwarding headers. */
static void resolve_forward(struct walker *w, const struct header_list *h)
{
	struct decoded_message *msg = w->msg;
	int innermost = 0;
	int depth = 0;
	const char *kind = "";
	struct mail_address from = { NULL, NULL };
	char *subject = NULL, *date = NULL;

	/* Chain of attached messages: first child of the outer message,
	 * then its first child, ... */
	for (;;) {
		int next = -1;
		for (size_t i = 1; i < w->n_msgs; i++)
			if (w->msgs[i].parent == innermost) {
				next = (int)i;
				break;
			}
		if (next < 0)
			break;
		innermost = next;
		depth++;
		kind = "rfc822";
	}
	if (innermost > 0) {
		const struct msg_info *mi = &w->msgs[innermost];
		address_copy(&from, &mi->from);
		subject = xstrdup(mi->subject);
		date = xstrdup(mi->date);
	}
	/* Inline blocks in the first part of that message that has one. */
	for (size_t i = 0; i < msg->n_parts; i++) {
		if (w->part_msg[i] != innermost)
			continue;
		struct forward_block fb;
		const char *t = msg->parts[i].text;
		size_t tl = msg->parts[i].len;
		size_t pos = 0;
		int found = 0;
		while (found < (int)LIMIT_FORWARD_DEPTH &&
		       forward_find(t, tl, pos, &fb, &msg->defects)) {
			found++;
			pos = fb.end;
			address_free(&from);
			free(subject);
			free(date);
			from = fb.from;
			subject = fb.subject;
			date = fb.date;
			kind = fb.kind;
			fb.from.name = fb.from.addr = NULL;
			fb.subject = fb.date = NULL;
			forward_block_free(&fb);
			if (pos >= tl)
				break;
		}
		if (found > 0) {
			depth += found;
			break;
		}
	}
	if (depth == 0) {
		const char *xof = header_get(h, "X-Original-From");
		if (xof && strchr(xof, '@')) {
			header_parse_mailbox(xof, &from, &msg->defects);
			kind = "header";
			depth = 1;
		} else if (header_get(h, "Resent-From") ||
			   header_get(h, "X-Forwarded-For")) {
			/* A redirect keeps the original From. */
			kind = "header";
			depth = 1;
		}
	}
	if (from.name == NULL)
		address_copy(&from, &msg->from);
	if (subject == NULL || subject[0] == '\0') {
		free(subject);
		subject = xstrdup(depth ? forward_strip_prefixes(msg->subject)
					: msg->subject);
	}
	if (date == NULL || date[0] == '\0') {
		free(date);
		date = xstrdup(msg->date);
	}
	msg->orig_from = from;
	msg->orig_subject = subject;
	msg->orig_date = date;
	msg->forward_depth = depth;
	msg->forward_kind = xstrdup(kind);
}

/* Joins the part texts with "\n\n" (empty parts add nothing). */
static void join_text(struct decoded_message *msg)
{
	struct buf b;

	buf_init(&b, LIMIT_DECODED_TEXT + 2 * LIMIT_MIME_PARTS + 2);
	for (size_t i = 0; i < msg->n_parts; i++) {
		if (msg->parts[i].len == 0)
			continue;
		if (b.len > 0)
			buf_append(&b, "\n\n", 2);
		buf_append(&b, msg->parts[i].text, msg->parts[i].len);
	}
	msg->text_len = b.len;
	msg->text = buf_steal(&b);
}

/* Binary garbage: NUL bytes or mostly control bytes near the start. */
static bool looks_binary(const char *raw, size_t len)
{
	size_t n = len < 1024 ? len : 1024, bad = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c == 0)
			return true;
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
			bad++;
	}
	return bad * 10 > n;
}

static void walker_free(struct walker *w)
{
	for (size_t i = 0; i < w->n_msgs; i++) {
		address_free(&w->msgs[i].from);
		free(w->msgs[i].subject);
		free(w->msgs[i].date);
	}
	free(w->msgs);
	free(w->part_msg);
}

int mail_decode(const char *raw, size_t len, struct decoded_message **msg_r,
		const char **reason_r)
{
	struct walker w;
	struct header_list h;
	struct decoded_message *msg;
	int r;

	*msg_r = NULL;
	*reason_r = NULL;
	if (len > LIMIT_MESSAGE_SIZE) {
		*reason_r = "limit:message-size";
		return -EFBIG;
	}
	size_t nonblank = 0;
	while (nonblank < len && strchr(" \t\r\n", raw[nonblank]) &&
	       raw[nonblank] != '\0')
		nonblank++;
	if (nonblank == len) {
		*reason_r = "empty-message";
		return -ENODATA;
	}
	r = header_scan(raw, len, &h, reason_r);
	if (r < 0) {
		header_list_free(&h);
		return r;
	}
	if (h.n == 0 && looks_binary(raw, len)) {
		header_list_free(&h);
		*reason_r = "not-a-message";
		return -EBADMSG;
	}
	struct buf fix;
	size_t keep = len;
	buf_init(&fix, 64u * 1024);
	r = prescan_check(raw, len, LIMIT_MIME_DEPTH, &fix, &keep, reason_r);
	if (r < 0) {
		buf_free(&fix);
		header_list_free(&h);
		return r;
	}
	/* Open multiparts at the end: parse a closed, padded copy. */
	char *fixed = NULL;
	const char *parse_buf = raw;
	size_t parse_len = len;
	if (fix.len > 0) {
		parse_len = keep + fix.len;
		fixed = xmalloc(parse_len + MAIL_PAD);
		memcpy(fixed, raw, keep);
		memcpy(fixed + keep, fix.data, fix.len);
		memset(fixed + parse_len, 0, MAIL_PAD);
		parse_buf = fixed;
	}
	buf_free(&fix);

	msg = xcalloc(1, sizeof(*msg));
	msg->raw_size = len;
	if (h.n == 0)
		msg->defects |= MAIL_DEFECT_NO_HEADERS;
	if (h.has_8bit)
		msg->defects |= MAIL_DEFECT_8BIT_HEADER;
	if (fixed)
		msg->defects |= MAIL_DEFECT_TRUNCATED;
	outer_headers(msg, &h);

	memset(&w, 0, sizeof(w));
	w.msg = msg;
	w.budget = LIMIT_DECODED_TEXT;
	w.msgs = xcalloc(1, sizeof(*w.msgs));
	w.msgs[0].parent = -1;
	w.n_msgs = 1;

	size_t idx = 0;
	struct mailmime *root = NULL;
	if (mailmime_parse(parse_buf, parse_len, &idx, &root) ==
		    MAILIMF_NO_ERROR &&
	    root != NULL) {
		struct mailmime *body = root;
		if (root->mm_type == MAILMIME_MESSAGE)
			body = root->mm_data.mm_message.mm_msg_mime;
		r = body ? walk(&w, body, 0) : 0;
		mailmime_free(root);
	} else {
		msg->defects |= MAIL_DEFECT_NO_HEADERS;
	}
	free(fixed);
	if (r < 0) {
		*reason_r = w.reason ? w.reason : "decode-error";
		walker_free(&w);
		header_list_free(&h);
		mail_free(&msg);
		return r;
	}
	resolve_forward(&w, &h);
	join_text(msg);
	walker_free(&w);
	header_list_free(&h);
	*msg_r = msg;
	return 0;
}
