/* html_xml.h - the libxml2 HTML-to-text converter, kept as the reference
 * for the streaming one (html.h); selected at run time only by the test
 * hook TRACKMAIL_TEST_HTML_XML (docs/testing.md). */
#ifndef TRACKMAIL_MAIL_HTML_XML_H
#define TRACKMAIL_MAIL_HTML_XML_H

#include <stddef.h>

#include "core/buf.h"
#include "mail/mail.h"

/* Same contract as html_to_text() (mail/html.h). */
int html_xml_to_text(const char *html, size_t len, struct buf *out,
		     struct decoded_message *msg, const char **reason_r);

#endif
