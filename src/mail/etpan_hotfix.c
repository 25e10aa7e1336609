/* etpan_hotfix.c - replaces a crashing function of Debian's libetpan 1.9.4.
 *
 * mailmime_extract_boundary() in libetpan 1.9.4 writes before its buffer for
 * boundary="\"" (a quoted value that starts with an escaped quote): a
 * 150-byte mail segfaults the parser (LIBRARIES.md 0.3, 2.6; fixed upstream
 * after 1.9.4, not in Debian). libetpan.so calls it through the PLT, so a
 * definition in the executable wins. This file is compiled into every
 * executable that parses mail (src/meson.build: mail_hotfix), never into the
 * static library, where nothing would pull it in. */
#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>

char *mailmime_extract_boundary(struct mailmime_content *content_type);

char *mailmime_extract_boundary(struct mailmime_content *content_type)
{
	char *value = mailmime_content_param_get(content_type, "boundary");
	if (value == NULL)
		return NULL;
	size_t len = strlen(value);
	const char *start = value;
	/* Strip surrounding quotes only when there are two distinct ones. */
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		start++;
		len -= 2;
	}
	char *out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, start, len);
	out[len] = '\0';
	return out;
}
