/* fuzz_mail_decode.c - libFuzzer target over mail_decode().
 *
 * Input: one raw message. The bytes are copied into a buffer with the
 * 16 bytes of zero padding mail_decode() requires (libFuzzer gives exact
 * sizes, which is what finds over-reads). Every output string is walked so
 * that a bad length or a non-terminated string shows up under ASan, and
 * every text is checked to be valid UTF-8 (the parsers run PCRE2 with
 * PCRE2_NO_UTF_CHECK on it).
 *
 * Built as a real fuzzer with -Dfuzz=true (clang), else linked with
 * replay_main.c and run by `meson test --suite fuzz` over the corpus. To
 * cover the whole decode+parse path later, add the parse step after
 * mail_decode() here or as a second target in meson.build. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/charset.h"
#include "mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
	if (s == NULL)
		abort();
	if (!charset_utf8_valid(s, strlen(s)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = malloc(size + 16);
	struct decoded_message *m = NULL;
	const char *reason = NULL;

	if (raw == NULL)
		return 0;
	if (size)
		memcpy(raw, data, size);
	memset(raw + size, 0, 16);
	if (mail_decode(raw, size, &m, &reason) == 0) {
		check_str(m->from.name);
		check_str(m->from.addr);
		check_str(m->subject);
		check_str(m->date);
		check_str(m->message_id);
		check_str(m->orig_from.name);
		check_str(m->orig_from.addr);
		check_str(m->orig_subject);
		check_str(m->orig_date);
		check_str(m->forward_kind);
		for (size_t i = 0; i < m->n_recipients; i++)
			check_str(m->recipients[i]);
		for (size_t i = 0; i < m->n_parts; i++) {
			check_str(m->parts[i].text);
			if (strlen(m->parts[i].text) != m->parts[i].len)
				abort();
		}
		check_str(m->text);
		if (strlen(m->text) != m->text_len)
			abort();
		for (size_t i = 0; i < m->n_links; i++) {
			check_str(m->links[i].url);
			check_str(m->links[i].text);
		}
		for (size_t i = 0; i < m->n_attachments; i++)
			check_str(m->attachments[i]);
		mail_free(&m);
	} else if (reason == NULL || m != NULL) {
		abort();
	}
	free(raw);
	return 0;
}
