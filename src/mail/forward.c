/* forward.c - inline forward detection (see forward.h).
 *
 * The text has been cleaned (text.c): "\n" line ends, quote prefixes gone.
 * A block starts at a separator line or, for Outlook without one, at a
 * From-like line followed by Subject- and Date-like lines. Header lines are
 * "Key: value" with localized keys; "*Key:*" (bold markup turned to text)
 * and "Key :" (French) are accepted. */
#include "mail/forward.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "mail/header.h"

enum key_kind { KEY_NONE, KEY_FROM, KEY_DATE, KEY_SUBJECT, KEY_OTHER };

static const char *const from_keys[] = {
	"from", "von", "de", "da", "van", "fra", "från", "od", "от",
	"absender", "expéditeur", "remitente", "mittente", "afzender",
	"feladó", "lähettäjä", "发件人", "寄件者", "差出人", "보낸 사람",
	"sender", NULL,
};
static const char *const date_keys[] = {
	"date", "sent", "datum", "gesendet", "envoyé", "enviado", "enviada",
	"inviato", "data", "verzonden", "skickat", "sendt", "wysłano",
	"дата", "отправлено", "日期", "发送时间", "送信日時", "날짜",
	"sent date", "fecha", "lähetetty", "dátum", "gesendet am", NULL,
};
static const char *const subject_keys[] = {
	"subject", "betreff", "objet", "oggetto", "asunto", "assunto",
	"onderwerp", "emne", "ämne", "temat", "тема", "主题", "主旨", "件名",
	"제목", "aihe", "tárgy", "předmět", NULL,
};
static const char *const other_keys[] = {
	"to", "cc", "bcc", "an", "à", "a", "para", "aan", "til", "till", "do",
	"kopie", "кому", "收件人", "宛先", "받는 사람", "reply-to",
	"antwort an", "répondre à", "rispondi a", "responder a", "cco", "ccn",
	"copie à", "kopie an", "importance", "wichtigkeit", "priority", NULL,
};

static bool in_list(const char *const *list, const char *k, size_t n)
{
	if (n == 0)
		return false;
	/* The first byte, case-folded, rules out almost every entry before
	 * a strlen(): this runs for every line of every part. */
	unsigned char k0 = (unsigned char)k[0] | 0x20;
	for (size_t i = 0; list[i]; i++)
		if (((unsigned char)list[i][0] | 0x20) == k0 &&
		    strlen(list[i]) == n && strncasecmp(list[i], k, n) == 0)
			return true;
	return false;
}

/* Parses "Key: value" in line[0..n). Returns the key kind and the value
 * offsets; KEY_NONE when the line is not a header line. */
static enum key_kind key_line(const char *line, size_t n, size_t *vstart)
{
	size_t i = 0;

	while (i < n && (line[i] == ' ' || line[i] == '*' || line[i] == '\t'))
		i++;
	size_t ks = i;
	/* Keys are short: find ':' (or a fullwidth U+FF1A) within 24 bytes. */
	size_t colon = 0, clen = 0;
	for (size_t j = i; j < n && j < i + 24; j++) {
		if (line[j] == ':') {
			colon = j;
			clen = 1;
			break;
		}
		if (j + 2 < n && (unsigned char)line[j] == 0xef &&
		    (unsigned char)line[j + 1] == 0xbc &&
		    (unsigned char)line[j + 2] == 0x9a) {
			colon = j;
			clen = 3;
			break;
		}
	}
	if (clen == 0)
		return KEY_NONE;
	size_t ke = colon;
	while (ke > ks && (line[ke - 1] == ' ' || line[ke - 1] == '*'))
		ke--;
	if (ke == ks)
		return KEY_NONE;
	size_t v = colon + clen;
	while (v < n && (line[v] == '*' || line[v] == ' ' || line[v] == '\t'))
		v++;
	*vstart = v;
	const char *k = line + ks;
	size_t kl = ke - ks;
	if (in_list(from_keys, k, kl))
		return KEY_FROM;
	if (in_list(date_keys, k, kl))
		return KEY_DATE;
	if (in_list(subject_keys, k, kl))
		return KEY_SUBJECT;
	if (in_list(other_keys, k, kl))
		return KEY_OTHER;
	/* Any other short "Key:" (a translation we do not list, "À",
	 * "X-Mailer") still belongs to the block. */
	int spaces = 0;
	for (size_t j = 0; j < kl; j++)
		spaces += k[j] == ' ';
	return spaces <= 2 ? KEY_OTHER : KEY_NONE;
}

static const char *const marker_words[] = {
	"forward", "original message", "weitergeleitet", "ursprüngliche",
	"transféré", "réexpédié", "inoltrat", "reenviado", "encaminhad",
	"doorgestuurd", "videresendt", "vidarebefordrat", "przekazan",
	"пересылаем", "转发", "轉寄", "転送", "전달", "mensaje original",
	"message d'origine", "messaggio originale", "originalnachricht",
	NULL,
};

static bool has_marker_word(const char *s, size_t n)
{
	for (size_t i = 0; marker_words[i]; i++) {
		const char *w = marker_words[i];
		size_t wl = strlen(w);
		for (size_t j = 0; j + wl <= n; j++)
			if (strncasecmp(s + j, w, wl) == 0)
				return true;
	}
	return false;
}

/* Is line[0..n) a forward separator? Returns its kind or NULL. */
static const char *marker_kind(const char *line, size_t n)
{
	size_t i = 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	line += i;
	n -= i;
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n < 8 || n > 120)
		return NULL;
	size_t d = 0;
	while (d < n && line[d] == '-')
		d++;
	if (d >= 3 && line[n - 1] == '-') {
		if (!has_marker_word(line, n))
			return NULL;
		if (util_memcasemem(line, n, "original message") &&
		    line[d] != ' ')
			return "outlook"; /* "-----Original Message-----" */
		if (d >= 10)
			return "gmail";
		if (d >= 8)
			return "thunderbird";
		if (d >= 5 && line[d] == ' ')
			return "yahoo";
		return "outlook";
	}
	/* Apple Mail: "Begin forwarded message:" and translations. */
	if (line[n - 1] == ':' && n < 60 &&
	    (util_memcasemem(line, n, "begin forwarded message") ||
	     util_memcasemem(line, n, "anfang der weitergeleiteten") ||
	     util_memcasemem(line, n, "début du message réexpédié") ||
	     util_memcasemem(line, n, "inizio messaggio inoltrato") ||
	     util_memcasemem(line, n, "comienzo del mensaje reenviado") ||
	     util_memcasemem(line, n, "início da mensagem reencaminhada") ||
	     util_memcasemem(line, n, "begin doorgestuurd bericht")))
		return "apple";
	/* Outlook's rule line "________________________________". */
	if (d == 0 && n >= 20) {
		size_t u = 0;
		while (u < n && line[u] == '_')
			u++;
		if (u == n)
			return "outlook";
	}
	return NULL;
}

static size_t line_end(const char *text, size_t len, size_t pos)
{
	const char *nl = memchr(text + pos, '\n', len - pos);
	return nl ? (size_t)(nl - text) : len;
}

void forward_block_free(struct forward_block *fb)
{
	free(fb->from.name);
	free(fb->from.addr);
	free(fb->subject);
	free(fb->date);
	memset(fb, 0, sizeof(*fb));
}

/* True when a value is visibly unfinished: an open '<' or a trailing
 * comma (Gmail's plain text wraps long From and To lines). */
static bool unfinished(const struct buf *v)
{
	const char *s = buf_cstr(v);
	const char *lt = strrchr(s, '<');
	size_t n = v->len;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	return (lt && !strchr(lt, '>')) || (n > 0 && s[n - 1] == ',');
}

/* Reads the header block starting at pos. Returns true if it holds at
 * least a From line (and, without a separator, Subject and Date too). */
static bool read_block(const char *text, size_t len, size_t pos,
		       bool need_all, struct forward_block *fb,
		       unsigned *defects_r)
{
	struct buf vals[3]; /* from, subject, date */
	bool seen[3] = { false, false, false };
	int last = -1; /* index of the last value read, -1: other key */
	int keys = 0, lines = 0;
	size_t end = pos;
	bool ok = false;

	for (int i = 0; i < 3; i++)
		buf_init(&vals[i], LIMIT_HEADER_LINE);
	while (pos < len && lines < 24) {
		size_t e = line_end(text, len, pos);
		size_t vs;
		lines++;
		if (e == pos) { /* blank line */
			if (keys > 0 && (seen[0] || !need_all))
				break;
			pos = e + 1;
			continue;
		}
		enum key_kind k = key_line(text + pos, e - pos, &vs);
		if (k == KEY_NONE) {
			if (keys > 0 && last >= 0 && unfinished(&vals[last])) {
				buf_append_char(&vals[last], ' ');
				buf_append(&vals[last], text + pos, e - pos);
				end = e < len ? e + 1 : e;
				pos = end;
				continue;
			}
			if (keys > 0)
				break;
			if (lines > 3)
				goto out;
			pos = e + 1;
			continue;
		}
		keys++;
		int idx = k == KEY_FROM ? 0 : k == KEY_SUBJECT ? 1
					 : k == KEY_DATE ? 2 : -1;
		last = -1;
		if (idx >= 0 && !seen[idx]) {
			seen[idx] = true;
			buf_append(&vals[idx], text + pos + vs, e - pos - vs);
			last = idx;
		}
		end = e < len ? e + 1 : e;
		pos = end;
	}
	if (!seen[0] || (need_all && !(seen[1] && seen[2])))
		goto out;
	header_parse_mailbox(buf_cstr(&vals[0]), &fb->from, defects_r);
	char **outs[2] = { &fb->subject, &fb->date };
	for (int i = 0; i < 2; i++) {
		struct buf *v = &vals[i + 1];
		/* Trim trailing '*' and blanks from bold markup. */
		while (v->len > 0 && (v->data[v->len - 1] == ' ' ||
				      v->data[v->len - 1] == '*'))
			v->data[--v->len] = '\0';
		*outs[i] = xstrdup(buf_cstr(v));
	}
	fb->end = end;
	ok = true;
out:
	for (int i = 0; i < 3; i++)
		buf_free(&vals[i]);
	return ok;
}

bool forward_find(const char *text, size_t len, size_t start,
		  struct forward_block *fb, unsigned *defects_r)
{
	size_t pos = start;

	memset(fb, 0, sizeof(*fb));
	while (pos < len) {
		size_t e = line_end(text, len, pos);
		const char *kind = marker_kind(text + pos, e - pos);
		size_t vs;
		if (kind && e < len &&
		    read_block(text, len, e + 1, false, fb, defects_r)) {
			fb->kind = kind;
			return true;
		}
		if (!kind && key_line(text + pos, e - pos, &vs) == KEY_FROM &&
		    read_block(text, len, pos, true, fb, defects_r)) {
			fb->kind = "outlook";
			return true;
		}
		pos = e + 1;
	}
	return false;
}

const char *forward_strip_prefixes(const char *subject)
{
	static const char *const prefixes[] = {
		"fwd", "fw", "wg", "tr", "rv", "i", "enc", "doorst", "vs",
		"vl", "re", "aw", "sv", "rif", "r", NULL,
	};
	const char *s = subject;

	for (int guard = 0; guard < 16; guard++) {
		while (*s == ' ')
			s++;
		bool hit = false;
		for (size_t i = 0; prefixes[i]; i++) {
			size_t n = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], n) != 0)
				continue;
			size_t j = n;
			while (s[j] == ' ')
				j++;
			if (s[j] == ':') {
				s += j + 1;
				hit = true;
				break;
			}
		}
		if (!hit)
			break;
	}
	while (*s == ' ')
		s++;
	return s;
}
