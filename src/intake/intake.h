/* intake.h - the entry points of the intake processes that `trackmail
 * serve` starts (DESIGN.md "Processes"). Each runs until SIGTERM, then
 * finishes what it accepted and returns its exit code. ready_fd, when
 * >= 0, gets one byte written and is closed once the process listens (so
 * the supervisor and tests know when to connect).
 *
 * intake_smtp_run: SMTP (smtp_listen) and LMTP (lmtp_listen) listeners on
 * one libevent loop, writing the spool (smtp_server.c, intake_smtp.c).
 * intake_imap_run: the IMAP poller, one connection per configured
 * mailbox (imap.c); its own process because libetpan uses select(). */
#ifndef TRACKMAIL_INTAKE_H
#define TRACKMAIL_INTAKE_H

struct config;

int intake_smtp_run(const struct config *cfg, int ready_fd);
int intake_imap_run(const struct config *cfg, int ready_fd);

#endif
