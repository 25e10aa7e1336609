/* test_parser.c - parser files: errors name file and line and skip only
 * the broken file; selection needs sender AND subject/body marker (a
 * relay-rewritten sender still works, a spoofed sender alone does not);
 * the tracking expectation turns a missing number into template drift; a
 * catastrophic pattern stops at its match limit and quarantines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "mail/mail.h"
#include "parse/parser.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static const char shop_yaml[] =
	"id: shop\n"
	"name: Shop\n"
	"usual_carriers: [ups]\n"
	"match:\n"
	"  domains: [shop.example]\n"
	"  subject: ['^Your Shop order']\n"
	"events:\n"
	"  - event: shipped\n"
	"    subject: ['has shipped']\n"
	"    tracking: required\n"
	"  - event: ordered\n"
	"    subject: ['received']\n"
	"extract:\n"
	"  order: ['Order (?<order>S-[0-9]{6})']\n"
	"  tracking: ['Tracking: (?<tracking>1Z[0-9A-Z]{16})']\n";

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/tm-parsers-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("shop.yaml", shop_yaml);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	(void)state;
	return 0;
}

static struct parse_result run(const struct parser_set *set, const char *raw)
{
	struct decoded_message *msg = NULL;
	const char *reason = NULL;
	size_t len = strlen(raw);
	char *padded = xcalloc(len + 17, 1);
	memcpy(padded, raw, len);
	assert_int_equal(mail_decode(padded, len, &msg, &reason), 0);
	struct parser_matcher *m = parser_matcher_new();
	struct parse_result r;
	parse_result_init(&r);
	parser_run(set, m, msg, true, &r);
	parser_matcher_free(&m);
	mail_free(&msg);
	free(padded);
	return r;
}

static void parser_errors_name_file_and_line(void **state)
{
	(void)state;
	write_file("bad_regex.yaml",
		   "id: bad\nname: Bad\nmatch:\n  domains: [bad.example]\n"
		   "  subject: ['x']\nextract:\n"
		   "  tracking:\n    - '(?<tracking>[0-9]+'\n");
	write_file("no_marker.yaml",
		   "id: lazy\nname: Lazy\nmatch:\n  domains: [lazy.example]\n"
		   "");
	write_file("no_group.yaml",
		   "id: nogroup\nname: N\nmatch:\n  domains: [n.example]\n"
		   "  subject: ['n']\nextract:\n"
		   "  order: ['Order [0-9]+']\n");
	write_file("bad_carrier.yaml",
		   "id: badc\nname: B\nmatch:\n  domains: [b.example]\n"
		   "  subject: ['b']\nextract:\n  tracking:\n"
		   "    - pattern: '(?<tracking>[0-9]+)'\n      carrier: nosuch\n");
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 65536);
	assert_int_equal(parser_set_load_dir(dir, &set, &errors), 0);
	const char *e = buf_cstr(&errors);
	assert_non_null(strstr(e, "bad_regex.yaml:8: extract.tracking[0]: "
				  "invalid regular expression"));
	assert_non_null(strstr(e, "no_marker.yaml:4: match needs subject or "
				  "body markers too"));
	assert_non_null(strstr(e, "no_group.yaml:7: extract.order[0]: pattern "
				  "has no named group (?<order>...)"));
	assert_non_null(strstr(e, "bad_carrier.yaml:8: unknown carrier id "
				  "'nosuch'"));
	/* Only the good file loaded. */
	assert_int_equal(parser_set_count(set), 1);
	assert_string_equal(parser_id(parser_set_at(set, 0)), "shop");
	parser_set_free(&set);
	buf_free(&errors);
}

static const char shipped_mail[] =
	"From: Shop <orders@shop.example>\r\n"
	"Subject: Your Shop order has shipped\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n\r\n"
	"Order S-123456\r\nCall 1-800-555-0100.\r\n"
	"Tracking: 1Z12345E0205271686\r\n";

static void parser_takes_its_mail_and_validates(void **state)
{
	(void)state;
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 65536);
	parser_set_load_dir(dir, &set, &errors);
	struct parse_result r = run(set, shipped_mail);
	assert_int_equal(r.outcome, OUTCOME_SHIPPED);
	assert_int_equal(r.event, EVENT_SHIPPED);
	assert_string_equal(parser_id(r.parser), "shop");
	assert_int_equal(r.n_shipments, 1);
	assert_string_equal(r.shipments[0].order, "S-123456");
	assert_string_equal(r.shipments[0].carrier_id, "ups");
	assert_non_null(strstr(buf_cstr(&r.explain),
			       "extract.tracking[0] (line 15) matched tracking "
			       "\"1Z12345E0205271686\""));
	parse_result_clear(&r);

	/* One digit off: the check digit fails; the event requires a
	 * number, so this is quarantined rather than pushed. */
	char *bad = xstrdup(shipped_mail);
	*strstr(bad, "1686") = '2';
	r = run(set, bad);
	assert_int_equal(r.outcome, OUTCOME_QUARANTINED);
	assert_string_equal(r.reason, "invalid-tracking");
	parse_result_clear(&r);
	free(bad);

	/* The number is gone: template drift. */
	char *drift = xstrdup(shipped_mail);
	*strstr(drift, "Tracking:") = 'X';
	r = run(set, drift);
	assert_int_equal(r.outcome, OUTCOME_QUARANTINED);
	assert_string_equal(r.reason, "template-drift");
	assert_non_null(strstr(buf_cstr(&r.explain),
			       "extract.tracking[0] (line 15): no tracking "
			       "number"));
	parse_result_clear(&r);
	free(drift);
	parser_set_free(&set);
	buf_free(&errors);
}

static void parser_sender_domain_attributes(void **state)
{
	(void)state;
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 65536);
	parser_set_load_dir(dir, &set, &errors);
	/* The supplier's domain (a subdomain of it) without a subject or
	 * body marker: still the supplier, flagged as template drift. */
	struct parse_result r = run(set,
		"From: Shop <orders@mail.shop.example>\r\n"
		"Subject: Spring sale!\r\n\r\nBuy now\r\n");
	assert_non_null(r.parser);
	assert_string_equal(parser_id(r.parser), "shop");
	assert_true(r.template_drift);
	parse_result_clear(&r);
	/* The display name alone never attributes. */
	r = run(set, "From: Shop <orders@elsewhere.example>\r\n"
		     "Subject: Your Shop order has shipped\r\n\r\nx\r\n");
	assert_null(r.parser);
	parse_result_clear(&r);
	/* Marker but a lookalike domain: not taken. */
	r = run(set, "From: Shop <orders@shop.example.evil>\r\n"
		     "Subject: Your Shop order has shipped\r\n\r\nx\r\n");
	assert_null(r.parser);
	parse_result_clear(&r);
	parser_set_free(&set);
	buf_free(&errors);
}

static void parser_regex_limit_quarantines(void **state)
{
	(void)state;
	write_file("slow.yaml",
		   "id: slow\nname: Slow\nmatch:\n  domains: [slow.example]\n"
		   "  subject: ['x']\n"
		   "  body: ['^(\\w+\\s?)*$']\n");
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 65536);
	parser_set_load_dir(dir, &set, &errors);
	struct parse_result r = run(set,
		"From: Slow <a@slow.example>\r\nSubject: y\r\n\r\n"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\r\n");
	assert_int_equal(r.outcome, OUTCOME_QUARANTINED);
	assert_string_equal(r.reason, "regex-limit");
	parse_result_clear(&r);
	parser_set_free(&set);
	buf_free(&errors);
	unlink("slow.yaml");
}

/* A tracking pattern that also matches the empty string, over text full
 * of multi-byte characters: the global match loop must step whole
 * characters, end, and still find the number. */
static void parser_empty_matches_step_whole_characters(void **state)
{
	(void)state;
	write_file("empty.yaml",
		   "id: empty\nname: Empty\nmatch:\n  domains: [empty.example]\n"
		   "  subject: ['x']\nextract:\n"
		   "  tracking: ['(?<tracking>(?:1Z[0-9A-Z]{16})?)']\n");
	struct parser_set *set = NULL;
	struct buf errors;
	buf_init(&errors, 65536);
	parser_set_load_dir(dir, &set, &errors);
	struct parse_result r = run(set,
		"From: E <a@empty.example>\r\nSubject: x\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"
		"\xc3\xbc\xe2\x82\xac\xf0\x9f\x93\xa6 1Z12345E0205271686 "
		"\xc3\xbc\r\n");
	assert_int_equal(r.outcome, OUTCOME_SHIPPED);
	assert_int_equal(r.n_shipments, 1);
	assert_string_equal(r.shipments[0].decision.check.normalized,
			    "1Z12345E0205271686");
	parse_result_clear(&r);
	parser_set_free(&set);
	buf_free(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(parser_errors_name_file_and_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			parser_takes_its_mail_and_validates, setup, teardown),
		cmocka_unit_test_setup_teardown(
			parser_sender_domain_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(parser_regex_limit_quarantines,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			parser_empty_matches_step_whole_characters, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
