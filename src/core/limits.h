/* limits.h - every bound on untrusted input, in one place, with its reason
 * (after SQLite's sqliteLimit.h). Operator-tunable ones are also config keys
 * (src/core/config.c) whose defaults come from here. */
#ifndef TRACKMAIL_LIMITS_H
#define TRACKMAIL_LIMITS_H

/* Largest message accepted. Supplier mails are < 1 MiB; forwards with
 * images reach a few MiB. 50 MiB stays far above that and under what one
 * worker can hold decoded (LIBRARIES.md 2.6: 27 MB parsed in 0.14 s). */
#define LIMIT_MESSAGE_SIZE (50u * 1024 * 1024)

/* Header section: a real header line is < 1 KiB even folded; 64 KiB stops a
 * 1 MB header line from being copied around and matched against. */
#define LIMIT_HEADER_LINE 65536u
/* Real mails carry < 200 header fields (Received chains included). */
#define LIMIT_HEADER_COUNT 2000u

/* MIME nesting: forwards of forwards reach depth 6 or so. libetpan recurses
 * without a limit (stack overflow near 5,000) and is quadratic in nesting
 * (LIBRARIES.md 0.6): the pre-scan refuses deeper mail before it parses. */
#define LIMIT_MIME_DEPTH 32u
/* Parts in one message: newsletters have < 50; 100,000 parts parse in 0.3 s
 * but every text part is matched against every rule. */
#define LIMIT_MIME_PARTS 1000u
/* Text kept after decoding (all text parts together): the parsers only need
 * the first few hundred KiB of any real mail. */
#define LIMIT_DECODED_TEXT (4u * 1024 * 1024)
/* HTML element nesting kept by the converter (libxml2 caps at 256 itself). */
#define LIMIT_HTML_DEPTH 256u
/* Links kept per message. */
#define LIMIT_LINKS 2000u

/* Longest link kept: real tracking links are < 2 KiB; a megabyte "URL" is
 * an attack on whoever logs or stores it. */
#define LIMIT_URL_LENGTH 16384u
/* schema.org JSON-LD blocks kept per message, and the size of each: real
 * ParcelDelivery markup is a few KiB. */
#define LIMIT_JSONLD_BLOCKS 16u
#define LIMIT_JSONLD_SIZE (256u * 1024)
/* Recipient addresses kept from Delivered-To/X-Original-To/To/Cc: the
 * account lookup needs a few; a 10,000-address Cc is an attack. */
#define LIMIT_RECIPIENTS 256u
/* Inline forward header blocks unwrapped (forward of a forward of ...):
 * mail clients nest a handful; past this the rest is left as text. */
#define LIMIT_FORWARD_DEPTH 16u

/* PCRE2: a hostile subject must not stall a worker. 100k steps finish a
 * catastrophic pattern in ~2 ms (LIBRARIES.md 3); real rules need < 1k. */
#define LIMIT_REGEX_MATCH 200000u
#define LIMIT_REGEX_DEPTH 10000u
#define LIMIT_REGEX_HEAP_KIB 20480u
/* Longest pattern in a parser file, and longest parser file. */
#define LIMIT_PATTERN_LENGTH 4096u
#define LIMIT_PARSER_FILE (1024u * 1024)
/* Shipments reported from one message: real mails carry < 10 packages. */
#define LIMIT_SHIPMENTS 64u

/* A worker process decodes and parses hostile mail (DESIGN.md "Processes").
 * CPU per message: real mail takes < 5 ms; 10 s stops the quadratic
 * libetpan cases (33 s for 1.4 MB, LIBRARIES.md 0.6) long before they hurt.
 * Memory: a 50 MiB message decodes in ~300 MiB; 2 GiB leaves room without
 * letting one message take the machine. Stack: libetpan recurses per MIME
 * level; depth is capped at LIMIT_MIME_DEPTH, 64 MiB is far beyond it. */
#define LIMIT_WORKER_CPU_MS 10000u
/* Wall-clock time per message: a read that blocks (a FIFO, a hung network
 * file system) uses no CPU and would hang the worker for ever. It covers
 * the store's commit too (busy timeout 10 s, fsyncs), so it sits well
 * above LIMIT_WORKER_CPU_MS plus the busy timeout. */
#define LIMIT_WORKER_WALL_MS 60000u
#define LIMIT_WORKER_MEMORY (2048ul * 1024 * 1024)
#define LIMIT_WORKER_STACK (64ul * 1024 * 1024)

/* SMTP/LMTP intake (src/intake/smtp_server.c, docs/intake.md). A command
 * line is 512 bytes in RFC 5321; SMTPUTF8 addresses and parameters make
 * real ones longer, 2 KiB is Postfix's line_length_limit. DATA lines are
 * 998 + CRLF in RFC 5322 but HTML mail often has longer ones: 64 KiB
 * keeps a line of one message far from a memory risk. */
#define LIMIT_SMTP_LINE 2048u
#define LIMIT_SMTP_DATA_LINE 65536u
/* Recipients per transaction: a forward goes to one address; RFC 5321
 * asks servers to take at least 100. */
#define LIMIT_SMTP_RECIPIENTS 100u
/* Unknown or malformed commands before 421: a real client makes none. */
#define LIMIT_SMTP_BAD_COMMANDS 10u
/* Sessions: each costs a few KiB idle; 500 idle must stay < 64 MB. */
#define LIMIT_SMTP_SESSIONS 1000u
#define LIMIT_SMTP_SESSIONS_PER_CLIENT 20u
/* Idle timeout is RFC 5321's 5 minutes; a whole session at most 30 min. */
#define LIMIT_SMTP_IDLE_S 300u
#define LIMIT_SMTP_SESSION_S 1800u
/* Replies a pipelining client leaves unread before we stop reading. */
#define LIMIT_SMTP_OUTPUT (64u * 1024)

#endif
