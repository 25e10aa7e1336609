/* serve.c - `trackmail serve` (the supervisor), `trackmail spool add`,
 * `trackmail messages list|show` and `trackmail status` (issue 9).
 *
 * The supervisor starts the SMTP/LMTP intake process (when built in), the
 * IMAP poller (when built in) and N workers (pipeline/serve_worker.h),
 * restarts a child that dies, and takes its children with it: each child
 * sets PR_SET_PDEATHSIG and checks getppid(), and all of them share the
 * supervisor's process group. SIGTERM or SIGINT: every child finishes
 * what it holds and the supervisor exits 0 once all have. SIGHUP: the
 * config and the parser files are read again; a broken config keeps the
 * old one; a sound one is taken and the children follow it: the IMAP
 * poller is started, stopped or replaced as the mailbox list asks, the
 * dispatch process is replaced; sound parser files replace the workers
 * (each finishes its message first), else the old set stays and the log
 * says why. Signals reach the supervisor through a signalfd, so its loop
 * is a plain poll(). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/term.h"
#include "core/util.h"
#include "dispatch/dispatch.h"
#include "intake/intake.h"
#include "intake/spool.h"
#include "pipeline/serve_worker.h"
#include "store/store_intake.h"

/* ---- serve ---------------------------------------------------------- */

static const char serve_usage[] =
	"usage: trackmail serve [--config FILE] [--data-dir DIR]\n"
	"                       [--parsers DIR] [--workers N]\n"
	"                       [--skip-broken-parsers]\n"
	"\n"
	"Runs the service: the SMTP/LMTP intake, the IMAP poller when\n"
	"mailboxes are configured, N workers deciding spooled mail\n"
	"(`workers`, default the number of CPUs) and the dispatcher.\n"
	"SIGTERM finishes in-flight work and exits 0. SIGHUP reloads the\n"
	"config and the parser files and the children follow: the IMAP\n"
	"poller is started, stopped or replaced as the new mailbox list\n"
	"asks, the dispatcher is restarted, and a broken config or parser\n"
	"file keeps the old one (logged: reload-failed ... action=kept-old);\n"
	"the SMTP/LMTP listen addresses and `workers` are read at start\n"
	"only.\n"
	"Refuses to start with a broken parser file unless\n"
	"--skip-broken-parsers.\n";

enum child_kind { CHILD_WORKER, CHILD_SMTP, CHILD_IMAP, CHILD_DISPATCH };

struct child {
	enum child_kind kind;
	int index;
	pid_t pid;           /* 0: not running */
	time_t started;
	time_t restart_at;   /* when to start again after a crash */
	unsigned backoff;    /* seconds, doubled per quick crash */
	bool retire;         /* asked to stop for a reload */
	bool done;           /* not restarted: exited on its own with 0, or
			      * removed by a reload */
};

struct supervisor {
	struct cli_common options; /* as given on the command line */
	struct cli_common common;
	bool skip_broken;
	long workers_opt;    /* --workers, or -1 */
	struct parser_set *parsers;
	struct child *children;
	size_t n_children;
	bool stopping;
	pid_t self;
	char *state_path;
};

/* SIGTERM in a worker: the one mutable global a signal handler needs. */
static volatile sig_atomic_t worker_stop;

static void on_worker_term(int sig)
{
	worker_stop = 1;
}

static const char *kind_name(enum child_kind k)
{
	switch (k) {
	case CHILD_SMTP:
		return "smtp";
	case CHILD_IMAP:
		return "imap";
	case CHILD_DISPATCH:
		return "dispatch";
	case CHILD_WORKER:
		break;
	}
	return "worker";
}

static long workers_wanted(const struct supervisor *s)
{
	long n = s->workers_opt >= 0 ? s->workers_opt : s->common.cfg->workers;
	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

static void child_setup(pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGHUP, SIG_IGN); /* the supervisor reloads, not us */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(0);
}

static int run_worker(struct supervisor *s, int index)
{
	/* Accepting mail comes first: a burst is spooled at the intake's
	 * pace and decided as the CPU allows, instead of the workers and
	 * their decoder children (which inherit this) taking the CPU the
	 * SMTP sessions wait for. At nice 10 a worker still gets about a
	 * tenth of a busy CPU, so a backlog always drains (docs/intake.md
	 * "Third pass"). */
	long inc = s->common.cfg->worker_nice;
	errno = 0;
	if (inc > 0 && nice((int)inc) == -1 && errno != 0)
		log_msg(LOG_WARN, "event=worker-nice-failed worker=%d "
			"error=\"%s\"", index, strerror(errno));
	struct sigaction sa = { .sa_handler = on_worker_term };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct serve_worker_opts o = {
		.index = index,
		.data_dir = s->common.data_dir,
		.parsers = s->parsers,
		.isolate = true,
		.supervisor = s->self,
		.stop = &worker_stop,
		.dkim_query_file = s->common.cfg->dkim_query_file,
	};
	worker_default_limits(&o.limits);
	o.limits.cpu_ms = (unsigned)s->common.cfg->worker_cpu_ms;
	o.limits.wall_ms = (unsigned)s->common.cfg->worker_wall_ms;
	return serve_worker_run(&o);
}

static int run_intake(struct supervisor *s, enum child_kind kind)
{
#ifdef TRACKMAIL_HAVE_INTAKE_SMTP
	if (kind == CHILD_SMTP)
		return intake_smtp_run(s->common.cfg, -1);
#endif
#ifdef TRACKMAIL_HAVE_INTAKE_IMAP
	if (kind == CHILD_IMAP)
		return intake_imap_run(s->common.cfg, -1);
#endif
	return 0;
}

/* The `dispatch` process: the loop of `trackmail dispatch` (without
 * --once) until SIGTERM, which lets the requests in flight finish. It
 * polls the outbox every few seconds (dispatch_run). */
static int run_dispatch(struct supervisor *s)
{
	struct sigaction sa = { .sa_handler = on_worker_term };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: ends the sleep */
	sigaction(SIGINT, &sa, NULL);
	struct store *store = NULL;
	if (cli_open_store(&s->common, &store) < 0)
		return EXIT_CANNOT_START;
	struct dispatch_opts o = {
		.timeout_ms = 30000,
		.concurrency = 16,
		.max_attempts = 8,
		.once_horizon_s = 60,
		.stop = &worker_stop,
	};
	struct dispatch_stats st = { 0 };
	int r = dispatch_run(store, s->common.data_dir, &o, &st);
	store_close(&store);
	log_msg(r < 0 ? LOG_ERROR : LOG_INFO, "event=dispatch-stopped "
		"done=%ld manual=%ld dead=%ld retried=%ld%s", st.done,
		st.manual, st.dead, st.retry,
		r == -EBUSY ? " error=\"another dispatch process holds "
			      "dispatch.lock\"" : "");
	if (r < 0)
		return r == -EBUSY ? EXIT_CANNOT_START : EXIT_SOME_FAILED;
	return 0;
}

static void start_child(struct supervisor *s, struct child *c)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERROR, "event=fork-failed child=%s error=\"%s\"",
			kind_name(c->kind), strerror(errno));
		c->restart_at = time(NULL) + 1;
		return;
	}
	if (pid == 0) {
		child_setup(s->self);
		int rc = c->kind == CHILD_WORKER     ? run_worker(s, c->index)
			 : c->kind == CHILD_DISPATCH ? run_dispatch(s)
						     : run_intake(s, c->kind);
		fflush(NULL);
		_exit(rc);
	}
	c->pid = pid;
	c->started = time(NULL);
	c->retire = false;
	log_msg(LOG_INFO, "event=child-started child=%s index=%d pid=%ld",
		kind_name(c->kind), c->index, (long)pid);
}

static void write_state(struct supervisor *s)
{
	size_t workers = 0;
	for (size_t i = 0; i < s->n_children; i++)
		if (s->children[i].kind == CHILD_WORKER && s->children[i].pid)
			workers++;
	char *text = xasprintf("pid=%ld\nworkers=%zu\n", (long)s->self,
			       workers);
	util_write_file_durable(s->state_path, text, strlen(text));
	free(text);
}

static void add_child(struct supervisor *s, enum child_kind kind, int index)
{
	s->children = xrealloc(s->children,
			       (s->n_children + 1) * sizeof(*s->children));
	s->children[s->n_children++] = (struct child){ .kind = kind,
						       .index = index,
						       .backoff = 1 };
}

static struct child *find_kind(struct supervisor *s, enum child_kind kind)
{
	for (size_t i = 0; i < s->n_children; i++)
		if (s->children[i].kind == kind)
			return &s->children[i];
	return NULL;
}

static struct child *find_child(struct supervisor *s, pid_t pid)
{
	for (size_t i = 0; i < s->n_children; i++)
		if (s->children[i].pid == pid)
			return &s->children[i];
	return NULL;
}

static void reap(struct supervisor *s)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = find_child(s, pid);
		if (!c)
			continue;
		c->pid = 0;
		bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (WIFSIGNALED(status))
			log_msg(LOG_WARN, "event=child-died child=%s index=%d "
				"pid=%ld signal=%d", kind_name(c->kind),
				c->index, (long)pid, WTERMSIG(status));
		else
			log_msg(clean ? LOG_INFO : LOG_WARN,
				"event=child-exited child=%s index=%d pid=%ld "
				"status=%d", kind_name(c->kind), c->index,
				(long)pid, WEXITSTATUS(status));
		time_t now = time(NULL);
		if (c->retire) {
			c->restart_at = now; /* reload: start the new one */
			c->backoff = 1;
		} else if (clean && c->kind != CHILD_WORKER &&
			   c->kind != CHILD_DISPATCH) {
			c->done = true; /* nothing to do (no mailbox) */
		} else {
			/* a crash: again, slower while it keeps crashing */
			if (now - c->started > 30)
				c->backoff = 1;
			c->restart_at = now + (c->backoff > 1 ? c->backoff : 0);
			if (c->backoff < 30)
				c->backoff *= 2;
		}
	}
}

/* Stops c to start it again (reap() restarts a retired child at once). */
static void retire_child(struct child *c)
{
	c->retire = true;
	c->done = false;
	if (c->pid) {
		kill(c->pid, SIGTERM);
	} else {
		c->restart_at = 0;
		c->backoff = 1;
	}
}

/* Every setting of the imap: list, to tell whether it changed (never
 * logged: it names the password file and the token command). */
static char *imap_signature(const struct config *cfg)
{
	struct buf b;
	buf_init(&b, 1024 * 1024);
	for (size_t i = 0; i < cfg->n_imap; i++) {
		const struct config_imap *m = &cfg->imap[i];
		const char *v[] = { m->name, m->host, m->user,
				    m->password_file, m->oauth2_token_command,
				    m->folder, m->account, m->ca_file };
		/* Length-prefixed: no value can pass for two. */
		for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++)
			buf_printf(&b, "%zu:%s", v[j] ? strlen(v[j]) : 0,
				   v[j] ? v[j] : "");
		buf_printf(&b, "%ld %ld\n", m->port, m->poll_seconds);
	}
	return buf_steal(&b);
}

/* The children follow a config just taken: the IMAP poller runs while
 * there are mailboxes and is replaced when their settings change; the
 * dispatch process is replaced so it sees the new settings. */
static void reconcile(struct supervisor *s, const char *imap_before)
{
#ifdef TRACKMAIL_HAVE_INTAKE_IMAP
	size_t n = s->common.cfg->n_imap;
	char *after = imap_signature(s->common.cfg);
	struct child *c = find_kind(s, CHILD_IMAP);
	bool live = c && !c->done;
	if (n > 0 && !live) {
		if (!c) {
			add_child(s, CHILD_IMAP, 0);
			c = &s->children[s->n_children - 1];
		}
		c->done = false;
		c->restart_at = 0; /* the main loop starts it */
		c->backoff = 1;
		/* Removed, not yet gone: reap() starts the new one. */
		c->retire = c->pid != 0;
		log_msg(LOG_INFO, "event=child-added child=imap mailboxes=%zu",
			n);
	} else if (n == 0 && live) {
		c->done = true; /* reap() leaves it stopped */
		c->retire = false;
		if (c->pid)
			kill(c->pid, SIGTERM);
		log_msg(LOG_INFO, "event=child-removed child=imap "
			"reason=no-mailboxes");
	} else if (n > 0 && strcmp(imap_before, after) != 0) {
		retire_child(c);
		log_msg(LOG_INFO, "event=child-replaced child=imap "
			"mailboxes=%zu reason=mailboxes-changed", n);
	}
	free(after);
#else
	(void)imap_before;
#endif
	struct child *d = find_kind(s, CHILD_DISPATCH);
	if (d) {
		retire_child(d);
		log_msg(LOG_INFO, "event=child-replaced child=dispatch "
			"reason=reload");
	}
}

/* Reads the config file and the parser files again. Returns true when
 * the workers are to be replaced. */
static bool reload(struct supervisor *s)
{
	/* The config first, into a scratch copy: a broken file keeps the
	 * running settings (and children). */
	struct config scratch;
	config_init(&scratch);
	struct buf errors;
	buf_init(&errors, 65536);
	const char *path = s->common.config_path
				   ? s->common.config_path
				   : getenv("TRACKMAIL_CONFIG");
	int r = 0;
	if (path && *path)
		r |= config_load_file(&scratch, path, &errors);
	r |= config_load_env(&scratch, &errors);
	config_free(&scratch);
	if (r) {
		struct buf b;
		buf_init(&b, 65536);
		log_escape(&b, buf_cstr(&errors));
		log_msg(LOG_ERROR, "event=reload-failed what=config "
			"action=kept-old error=%s", buf_cstr(&b));
		buf_free(&b);
		buf_free(&errors);
		return false;
	}
	buf_free(&errors);
	/* The old mailbox list, before cli_common_defaults frees it. */
	char *imap_before = imap_signature(s->common.cfg);
	/* Options given on the command line stay (cli_common_defaults
	 * frees the strings of the settings it replaces). */
	struct cli_common fresh = s->options;
	struct parser_set *set = NULL;
	if (cli_common_defaults(&fresh) != 0) {
		free(imap_before);
		return false;
	}
	/* The settings are the new ones from here on (the old strings are
	 * freed), and the children follow them: the parser set is what may
	 * stay. */
	s->common = fresh;
	reconcile(s, imap_before);
	free(imap_before);
	if (cli_load_parsers_checked(&fresh, s->skip_broken, &set) < 0) {
		log_msg(LOG_ERROR, "event=reload-failed what=parsers "
			"action=kept-old (the broken file is named above)");
		return false;
	}
	parser_set_free(&s->parsers);
	s->parsers = set;
	log_msg(LOG_INFO, "event=reloaded");
	return true;
}

static void signal_children(struct supervisor *s, int sig, bool workers_only)
{
	for (size_t i = 0; i < s->n_children; i++) {
		struct child *c = &s->children[i];
		if (!c->pid || (workers_only && c->kind != CHILD_WORKER))
			continue;
		if (workers_only)
			c->retire = true;
		kill(c->pid, sig);
	}
}

static size_t running(const struct supervisor *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_children; i++)
		if (s->children[i].pid)
			n++;
	return n;
}

static void print_address(struct supervisor *s)
{
	struct store *store = NULL;
	if (cli_open_store(&s->common, &store) < 0)
		return;
	struct store_account a;
	if (store_account_default(store, &a) == 0)
		log_msg(LOG_INFO, "event=forwarding-address account=default "
			"address=t-%s@%s", a.token, s->common.domain);
	store_close(&store);
}

int cli_serve(int argc, char **argv)
{
	enum { OPT_SKIP_BROKEN = 256, OPT_WORKERS };
	static const struct option opts[] = {
		CLI_OPTION_CONFIG,
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_PARSERS,
		CLI_OPTION_DOMAIN,
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "skip-broken-parsers", no_argument, NULL, OPT_SKIP_BROKEN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct supervisor s = { .workers_opt = -1 };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SKIP_BROKEN:
			s.skip_broken = true;
			break;
		case OPT_WORKERS:
			if (util_parse_long(optarg, 1, 256, &s.workers_opt) <
			    0) {
				fprintf(stderr, "trackmail: serve: --workers "
					"takes 1..256\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			cli_usage(serve_usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&s.common, c, optarg))
				break;
			cli_usage(serve_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage(serve_usage, true);
		return EXIT_USAGE;
	}
	s.options = s.common;
	if (cli_common_defaults(&s.common) != 0)
		return EXIT_USAGE;
	if (cli_load_parsers_checked(&s.common, s.skip_broken, &s.parsers) <
	    0)
		return EXIT_CANNOT_START;
	/* The database: created and migrated once, before any child. */
	struct store *store = NULL;
	if (cli_open_store(&s.common, &store) < 0)
		return EXIT_CANNOT_START;
	store_close(&store);
	struct spool *spool = NULL;
	char err[512];
	if (spool_open(&spool, s.common.data_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "trackmail: %s\n", err);
		return EXIT_CANNOT_START;
	}
	/* Whatever a crash left: tmp/ files were never acknowledged; new/
	 * is taken by the workers like any message. */
	spool_remove_stale_tmp(spool);
	size_t depth = 0;
	long age = 0;
	spool_depth(spool, &depth, &age);
	spool_close(spool);
	spool_archive_prune(s.common.data_dir,
			    (unsigned)s.common.cfg->archive_days);

	/* One process group: `kill -- -PGID` reaches every child. */
	if (getpgrp() != getpid())
		setpgid(0, 0);
	s.self = getpid();
	s.state_path = xasprintf("%s/serve.state", s.common.data_dir);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "trackmail: serve: signalfd: %s\n",
			strerror(errno));
		return EXIT_CANNOT_START;
	}

#ifdef TRACKMAIL_HAVE_INTAKE_SMTP
	add_child(&s, CHILD_SMTP, 0);
#endif
#ifdef TRACKMAIL_HAVE_INTAKE_IMAP
	if (s.common.cfg->n_imap > 0) /* no mailbox: no poller */
		add_child(&s, CHILD_IMAP, 0);
#endif
	add_child(&s, CHILD_DISPATCH, 0);
	long nw = workers_wanted(&s);
	for (long i = 0; i < nw; i++)
		add_child(&s, CHILD_WORKER, (int)i);
	log_msg(LOG_INFO, "event=serve-starting pid=%ld workers=%ld "
		"data_dir=%s spool_depth=%zu oldest_age=%ld",
		(long)s.self, nw, s.common.data_dir, depth, age);
	print_address(&s);
	for (size_t i = 0; i < s.n_children; i++)
		start_child(&s, &s.children[i]);
	write_state(&s);
	log_msg(LOG_INFO, "event=serve-ready pid=%ld", (long)s.self);

	time_t next_prune = time(NULL) + 6 * 3600;
	for (;;) {
		time_t now = time(NULL);
		int timeout = 1000;
		if (!s.stopping) {
			bool changed = false;
			for (size_t i = 0; i < s.n_children; i++) {
				struct child *ch = &s.children[i];
				if (!ch->pid && !ch->done &&
				    ch->restart_at <= now) {
					start_child(&s, ch);
					changed = true;
				}
			}
			if (changed)
				write_state(&s);
			if (now >= next_prune) {
				spool_archive_prune(
					s.common.data_dir,
					(unsigned)s.common.cfg->archive_days);
				next_prune = now + 6 * 3600;
			}
		} else if (!running(&s)) {
			break;
		}
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		int pr = poll(&p, 1, timeout);
		if (pr <= 0)
			continue;
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGCHLD:
				reap(&s);
				write_state(&s);
				break;
			case SIGHUP:
				log_msg(LOG_INFO, "event=reload-requested");
				if (!s.stopping && reload(&s))
					signal_children(&s, SIGTERM, true);
				break;
			default:
				if (!s.stopping)
					log_msg(LOG_INFO, "event=serve-stopping "
						"signal=%u", si.ssi_signo);
				s.stopping = true;
				signal_children(&s, SIGTERM, false);
				break;
			}
			pr = poll(&p, 1, 0);
			if (pr <= 0)
				break;
		}
		reap(&s); /* a SIGCHLD merged with another signal */
	}
	close(sfd);
	unlink(s.state_path);
	free(s.state_path);
	free(s.children);
	parser_set_free(&s.parsers);
	log_msg(LOG_INFO, "event=serve-stopped");
	return EXIT_DONE;
}

/* ---- spool add ------------------------------------------------------ */

static const char spool_usage[] =
	"usage: trackmail spool add FILE... [--account NAME] [--data-dir DIR]\n"
	"\n"
	"Puts each FILE (a message) into the running service's spool, durably,\n"
	"as the intake would, for the account NAME (default: the account the\n"
	"t-<token>@ recipient names, else 'default'). Prints each spool id.\n";

static int resolve_account_id(struct cli_common *common, const char *name,
			      int64_t *id_r)
{
	*id_r = 0;
	if (!name)
		return 0;
	struct store *store = NULL;
	if (cli_open_store(common, &store) < 0)
		return EXIT_CANNOT_START;
	struct store_account a;
	int r = strcmp(name, "default") == 0
			? store_account_default(store, &a)
			: store_account_by_name(store, name, &a);
	store_close(&store);
	if (r < 0) {
		fprintf(stderr, "trackmail: no account named '%s' (create it "
			"with: trackmail accounts add %s)\n", name, name);
		return EXIT_USAGE;
	}
	*id_r = a.id;
	return 0;
}

int cli_spool(int argc, char **argv)
{
	enum { OPT_ACCOUNT = 256 };
	static const struct option opts[] = {
		CLI_OPTION_CONFIG,
		CLI_OPTION_DATA_DIR,
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *account = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_ACCOUNT) {
			account = optarg;
		} else if (c == 'h') {
			cli_usage(spool_usage, false);
			return EXIT_DONE;
		} else if (!cli_common_option(&common, c, optarg)) {
			cli_usage(spool_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 >= argc || strcmp(argv[optind], "add") != 0) {
		cli_usage(spool_usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	int64_t account_id;
	int r = resolve_account_id(&common, account, &account_id);
	if (r)
		return r;
	struct spool *spool = NULL;
	char err[512];
	if (spool_open(&spool, common.data_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "trackmail: %s\n", err);
		return EXIT_CANNOT_START;
	}
	int worst = EXIT_DONE;
	for (int i = optind + 1; i < argc; i++) {
		char *data = NULL;
		size_t len = 0;
		r = util_read_file(argv[i], LIMIT_MESSAGE_SIZE, &data, &len);
		if (r < 0) {
			fprintf(stderr, "trackmail: %s: %s\n", argv[i],
				strerror(-r));
			worst = EXIT_SOME_FAILED;
			continue;
		}
		struct spool_envelope env = { .account_id = account_id,
					      .source = SPOOL_SOURCE_FILE,
					      .peer = argv[i] };
		char id[256];
		r = spool_deliver(spool, &env, data, len, id, sizeof(id), err,
				  sizeof(err));
		free(data);
		if (r < 0) {
			fprintf(stderr, "trackmail: %s\n", err);
			worst = EXIT_SOME_FAILED;
			continue;
		}
		printf("%s\n", id);
	}
	spool_close(spool);
	return worst;
}

/* ---- messages list|show --------------------------------------------- */

static const char messages_usage[] =
	"usage: trackmail messages list [--json] [--since TIME] "
	"[--account NAME]\n"
	"       trackmail messages show ID [--json]\n"
	"\n"
	"list   every stored message with its current decision, oldest first\n"
	"       (no limit). --since takes ISO 8601 (2026-12-01,\n"
	"       2026-12-01T10:00:00Z) or a duration (30m, 12h, 7d, 2w).\n"
	"show   one message: its decision as `parse --json` prints it.\n"
	"  --json  one JSON object per line: id, message_id, account, source\n"
	"          (smtp, lmtp, imap, file), received, and the fields of\n"
	"          `parse --json`\n";

/* Seconds since the epoch for --since, or -1. */
static int64_t parse_since(const char *s)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	if (end != s && n >= 0 && end[0] && !end[1] && !strchr(s, '-')) {
		long long unit = 0;
		switch (end[0]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		}
		if (unit)
			return (int64_t)time(NULL) - n * unit;
		return -1;
	}
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (!rest)
		return -1;
	if (*rest == 'T' || *rest == ' ') {
		rest = strptime(rest + 1, "%H:%M", &tm);
		if (!rest)
			return -1;
		if (*rest == ':') {
			rest = strptime(rest + 1, "%S", &tm);
			if (!rest)
				return -1;
		}
	}
	long off = 0;
	if (*rest == 'Z') {
		rest++;
	} else if (*rest == '+' || *rest == '-') {
		int sign = *rest == '-' ? -1 : 1;
		int hh, mm = 0;
		char *e;
		hh = (int)strtol(rest + 1, &e, 10);
		if (e - rest - 1 == 4) {
			mm = hh % 100;
			hh /= 100;
		} else if (*e == ':') {
			mm = (int)strtol(e + 1, &e, 10);
		}
		off = sign * (hh * 3600L + mm * 60L);
		rest = e;
	}
	if (*rest)
		return -1;
	return (int64_t)timegm(&tm) - off;
}

struct list_ctx {
	bool json;
	bool show;
};

static char *iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static void print_row(const struct store_intake_row *row, void *vctx)
{
	struct list_ctx *ctx = vctx;
	char when[32];
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(row->id));
	json_object_set_new(o, "message_id", json_string(row->message_id));
	json_object_set_new(o, "account", json_string(row->account));
	json_object_set_new(o, "source", json_string(row->intake));
	json_object_set_new(o, "received",
			    json_string(iso_time(row->received_at, when)));
	json_t *dec = *row->result_json ? json_loads(row->result_json, 0, NULL)
					: NULL;
	if (json_is_object(dec))
		json_object_update_missing(o, dec);
	if (ctx->json || ctx->show) {
		char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
						   (ctx->show && !ctx->json
							    ? JSON_INDENT(2)
							    : 0));
		if (line) {
			cli_print_json(line, false);
			free(line);
		}
	} else {
		const char *outcome = json_string_value(
			json_object_get(dec, "outcome"));
		const char *supplier = json_string_value(
			json_object_get(dec, "supplier"));
		_cleanup_free_ char *mid = term_safe(row->message_id);
		_cleanup_free_ char *acct = term_safe(row->account);
		printf("%-6" PRId64 " %s %-12s %-5s %-12s %-14s %s\n", row->id,
		       when, acct, row->intake, outcome ? outcome : "-",
		       supplier ? supplier : "-", mid);
	}
	json_decref(dec);
	json_decref(o);
}

int cli_messages(int argc, char **argv)
{
	enum { OPT_SINCE = 256, OPT_ACCOUNT };
	static const struct option opts[] = {
		CLI_OPTION_CONFIG,
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_JSON,
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	const char *account = NULL;
	int64_t since = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SINCE:
			since = parse_since(optarg);
			if (since < 0) {
				fprintf(stderr, "trackmail: messages: --since "
					"'%s': not ISO 8601 nor a duration "
					"like 7d\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_ACCOUNT:
			account = optarg;
			break;
		case 'h':
			cli_usage(messages_usage, false);
			return EXIT_DONE;
		default:
			if (cli_common_option(&common, c, optarg))
				break;
			cli_usage(messages_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage(messages_usage, true);
		return EXIT_USAGE;
	}
	bool show = strcmp(argv[optind], "show") == 0;
	long id = 0;
	if (show) {
		if (optind + 2 != argc ||
		    util_parse_long(argv[optind + 1], 1, LONG_MAX, &id) < 0) {
			cli_usage(messages_usage, true);
			return EXIT_USAGE;
		}
	} else if (strcmp(argv[optind], "list") != 0 || optind + 1 != argc) {
		cli_usage(messages_usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0)
		return EXIT_CANNOT_START;
	struct list_ctx ctx = { .json = common.json, .show = show };
	int n = store_intake_each(store, show ? id : 0, show ? 0 : since,
				  show ? NULL : account, print_row, &ctx);
	if (n < 0)
		fprintf(stderr, "trackmail: %s\n", store_error(store));
	store_close(&store);
	if (n < 0)
		return EXIT_SOME_FAILED;
	if (show && n == 0) {
		fprintf(stderr, "trackmail: no message %ld\n", id);
		return EXIT_SOME_FAILED;
	}
	return EXIT_DONE;
}

/* ---- status --------------------------------------------------------- */

static const char status_usage[] =
	"usage: trackmail status [--data-dir DIR] [--json]\n"
	"\n"
	"Prints the spool depth, the oldest waiting message's age, the\n"
	"service's workers and the last decision.\n";

static void last_row(const struct store_intake_row *row, void *arg)
{
	json_t *o = arg;
	char when[32];
	json_t *dec = *row->result_json ? json_loads(row->result_json, 0, NULL)
					: NULL;
	json_t *last = json_object();
	json_object_set_new(last, "id", json_integer(row->id));
	json_object_set_new(last, "received",
			    json_string(iso_time(row->received_at, when)));
	json_object_set_new(last, "account", json_string(row->account));
	json_object_set_new(last, "source", json_string(row->intake));
	json_t *outcome = json_object_get(dec, "outcome");
	if (outcome)
		json_object_set(last, "outcome", outcome);
	json_object_set_new(o, "last_decision", last);
	json_decref(dec);
}

int cli_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_CONFIG,
		CLI_OPTION_DATA_DIR,
		CLI_OPTION_JSON,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common common = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_usage(status_usage, false);
			return EXIT_DONE;
		}
		if (!cli_common_option(&common, c, optarg)) {
			cli_usage(status_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_usage(status_usage, true);
		return EXIT_USAGE;
	}
	if (cli_common_defaults(&common) != 0)
		return EXIT_USAGE;
	struct spool *spool = NULL;
	char err[512];
	if (spool_open(&spool, common.data_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "trackmail: %s\n", err);
		return EXIT_CANNOT_START;
	}
	size_t depth = 0;
	long age = 0;
	spool_depth(spool, &depth, &age);
	spool_close(spool);
	json_t *o = json_object();
	json_object_set_new(o, "spool_depth", json_integer((json_int_t)depth));
	json_object_set_new(o, "oldest_age_seconds", json_integer(age));
	/* The running service, from the state file it keeps. */
	_cleanup_free_ char *state_path =
		xasprintf("%s/serve.state", common.data_dir);
	char *state = NULL;
	size_t state_len = 0;
	long pid = 0, workers = 0;
	if (util_read_file(state_path, 4096, &state, &state_len) == 0) {
		const char *p = strstr(state, "pid=");
		if (p)
			pid = strtol(p + 4, NULL, 10);
		p = strstr(state, "workers=");
		if (p)
			workers = strtol(p + 8, NULL, 10);
		free(state);
	}
	bool up = pid > 0 && kill((pid_t)pid, 0) == 0;
	json_object_set_new(o, "serve_running", json_boolean(up));
	if (up) {
		json_object_set_new(o, "serve_pid", json_integer(pid));
		json_object_set_new(o, "workers", json_integer(workers));
	} else {
		json_object_set_new(o, "workers", json_integer(0));
	}
	struct store *store = NULL;
	if (cli_open_store(&common, &store) < 0) {
		json_decref(o);
		return EXIT_CANNOT_START;
	}
	store_intake_each(store, -1, 0, NULL, last_row, o);
	store_close(&store);
	if (common.json) {
		char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		cli_print_json(line, false);
		free(line);
	} else {
		printf("spool depth:      %zu\n", depth);
		printf("oldest waiting:   %ld s\n", age);
		if (up)
			printf("service:          running, pid %ld, %ld "
			       "workers\n", pid, workers);
		else
			printf("service:          not running\n");
		json_t *last = json_object_get(o, "last_decision");
		if (last) {
			const char *oc = json_string_value(
				json_object_get(last, "outcome"));
			_cleanup_free_ char *acct = term_safe(json_string_value(
				json_object_get(last, "account")));
			printf("last decision:    #%lld %s %s %s (%s)\n",
			       (long long)json_integer_value(
				       json_object_get(last, "id")),
			       json_string_value(
				       json_object_get(last, "received")),
			       oc ? oc : "-", acct,
			       json_string_value(
				       json_object_get(last, "source")));
		} else {
			printf("last decision:    none yet\n");
		}
	}
	json_decref(o);
	return EXIT_DONE;
}
