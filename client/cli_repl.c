/*
 * cli_repl.c: evkv-cli's interactive mode, a prompt in the manner of
 * redis-cli's. Line editing and history come from libedit, through its
 * native interface (histedit.h), which frees everything it made. One
 * connection is kept open from command to command; one the server closed
 * in the meantime is reopened, and when the server is down the error is
 * printed and the prompt stays, saying "not connected> ". Ctrl-C during a
 * command abandons it and its connection; at the prompt, it leaves.
 *
 * The history file holds one command a line, oldest first (not libedit's
 * own vis(3)-encoded format, so that it reads as typed), and is rewritten
 * after every command, so that a session ended by a signal loses nothing.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "cli_modes.h"
#include "text.h"

#define REPL_HISTORY_SIZE 1000            /* commands kept */
#define REPL_HISTORY_NAME ".evkv_history" /* in $HOME */

/* The signal that came (SIGINT, SIGTERM, SIGHUP), or 0: at the
 * prompt, each ends it; during a command, SIGINT abandons the command. */
static volatile sig_atomic_t repl_signal;

typedef struct repl {
    const cli_options *o;
    cli_session s;                                      /* the connection, kept from command to command */
    char prompt[sizeof(((cli_options *)0)->where) + 8]; /* "evkv WHERE> " */
    char *histfile;                                     /* where history is kept (owned), or NULL */
    History *hist;
    EditLine *el;
} repl;

static const char repl_help[] = "Commands:\n"
                                "  search KEY   look KEY up (KEY is the rest of the line, spaces included)\n"
                                "  ping         check that the server answers: pong\n"
                                "  stats        the server's counters\n"
                                "  help         this help\n"
                                "  quit, exit   leave (Ctrl-D too)\n";

/* The commands, for Tab to complete. */
static const char *const repl_commands[] = {"search", "ping", "stats", "help", "quit", "exit"};

/* Tab: completes a command name being typed as the line's first word (in
 * any case) when one command starts that way; when several do, lists them
 * under the line and redraws it; when none does, rings the bell. */
static unsigned char repl_complete(EditLine *el, int ch)
{
    const LineInfo *li = el_line(el);
    const char *word = li->buffer, *match[sizeof(repl_commands) / sizeof(repl_commands[0])];
    size_t len, nmatch = 0;

    (void)ch;
    while (word < li->cursor && (*word == ' ' || *word == '\t'))
        word++;
    len = (size_t)(li->cursor - word);
    if (memchr(word, ' ', len) || memchr(word, '\t', len) || li->cursor != li->lastchar)
        return CC_ERROR;
    for (size_t i = 0; i < sizeof(repl_commands) / sizeof(repl_commands[0]); i++)
        if (strncasecmp(word, repl_commands[i], len) == 0)
            match[nmatch++] = repl_commands[i];
    if (nmatch == 0)
        return CC_ERROR;
    if (nmatch > 1) {
        FILE *out;
        el_get(el, EL_GETFP, 1, &out);
        fputc('\n', out);
        for (size_t i = 0; i < nmatch; i++)
            fprintf(out, "%s%s", i ? "  " : "", match[i]);
        fflush(out); /* CC_REDISPLAY starts a new line for the prompt */
        return CC_REDISPLAY;
    }
    /* The whole name, as the list writes it, in place of what was typed. */
    char name[16];
    snprintf(name, sizeof(name), "%s ", match[0]);
    el_deletestr(el, (int)len);
    return el_insertstr(el, name) == 0 ? CC_REFRESH : CC_ERROR;
}

/* The history file's path: $EVKV_HISTFILE if set (empty: none), else
 * $HOME/.evkv_history (no $HOME: none). New string, or NULL. */
static char *repl_histfile_path(void)
{
    const char *env = getenv("EVKV_HISTFILE"), *home = getenv("HOME");
    char *path;

    if (env)
        return env[0] ? strdup(env) : NULL;
    if (home == NULL || home[0] == '\0')
        return NULL;
    path = malloc(strlen(home) + sizeof(REPL_HISTORY_NAME) + 1);
    if (path)
        sprintf(path, "%s/%s", home, REPL_HISTORY_NAME);
    return path;
}

/* Opens the history file with flags, if it is a regular file (not a
 * symlink, a FIFO or a device: something else put there is left alone).
 * Returns a descriptor or -1. */
static int repl_history_open(const char *path, int flags)
{
    struct stat st;
    int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads the history file, if there is one (its last REPL_HISTORY_SIZE
 * lines count). */
static void repl_history_load(repl *r)
{
    HistEvent ev;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int fd = r->histfile ? repl_history_open(r->histfile, O_RDONLY) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > 0)
            history(r->hist, &ev, H_ENTER, line);
    }
    free(line);
    fclose(f);
}

/* Writes the history file, oldest command first, into a new file renamed
 * over the old one, so that a session starting meanwhile reads a whole
 * file. (Two sessions at once: the last to save wins, as with redis-cli.)
 * A file that cannot be written (no such directory, no permission) is
 * skipped without a word: history is a convenience. */
static void repl_history_save(const repl *r)
{
    HistEvent ev;
    struct stat st;
    char *tmp;
    int fd;
    FILE *f;

    if (r->histfile == NULL)
        return;
    /* Only over a regular file (or none): not through a symlink. */
    if (lstat(r->histfile, &st) == 0 && !S_ISREG(st.st_mode))
        return;
    tmp = malloc(strlen(r->histfile) + 32);
    if (tmp == NULL)
        return;
    sprintf(tmp, "%s.%ld.tmp", r->histfile, (long)getpid());
    /* 0600: commands name keys, which may be nobody else's business. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return;
    }
    /* H_LAST is the oldest entry; H_PREV walks towards the newest. */
    for (int rc = history(r->hist, &ev, H_LAST); rc != -1; rc = history(r->hist, &ev, H_PREV))
        fprintf(f, "%s\n", ev.str);
    if (fclose(f) != 0 || rename(tmp, r->histfile) != 0)
        unlink(tmp);
    free(tmp);
}

/* The prompt: "evkv WHERE> " with a connection, else "not connected> ", as
 * redis-cli shows it. A connection the server has closed meanwhile is let
 * go here, so that the prompt tells. */
static char *repl_prompt(EditLine *el)
{
    repl *r;
    el_get(el, EL_CLIENTDATA, &r);
    return cli_session_alive(&r->s) ? r->prompt : (char *)"not connected> ";
}

/* Sends req and waits for its answer (cli_session_exchange). After Ctrl-C
 * during the wait, the request is abandoned, and with it the connection,
 * whose next bytes may be its answer: the prompt comes back, as in
 * redis-cli. SIGTERM and SIGHUP stay in repl_signal, to end the prompt.
 * Returns 0 with *msg, or -1. */
static int repl_exchange(repl *r, const proto_buf *req, proto_message *msg)
{
    if (cli_session_exchange(&r->s, req, msg) == 0)
        return 0;
    if (r->s.c.interrupted && repl_signal == SIGINT) {
        repl_signal = 0;
        /* A connect cut short has said so; a wait for an answer has not.
         * After the terminal's "^C", on a line of its own. */
        if (strcmp(r->s.c.err, "interrupted") == 0) {
            if (isatty(STDOUT_FILENO))
                putchar('\n');
            cli_error("interrupted");
        }
    }
    return -1;
}

static void repl_request(repl *r, cli_kind kind, const char *key, size_t key_len)
{
    proto_buf req = {0};
    proto_message msg;

    cli_encode(&req, kind, key, key_len);
    if (req.failed)
        fprintf(stderr, "evkv-cli: out of memory\n");
    else if (repl_exchange(r, &req, &msg) == 0)
        cli_print_answer(r->o, kind, &msg, key, key_len);
    proto_buf_free(&req);
    fflush(stdout);
}

/* Whether word[0..len) is the command name, in any case. */
static int is_command(const char *word, size_t len, const char *name)
{
    return len == strlen(name) && strncasecmp(word, name, len) == 0;
}

/* Runs one line (no newline). Returns 1 when it asks to leave. */
static int repl_run_line(repl *r, const char *line)
{
    const char *word = line + strspn(line, " \t");
    size_t word_len = strcspn(word, " \t");
    const char *rest = word + word_len + strspn(word + word_len, " \t");

    if (word_len == 0)
        return 0;
    if (is_command(word, word_len, "search")) {
        if (*rest == '\0')
            cli_error("search needs a KEY: search KEY");
        else if (!proto_utf8_valid(rest, strlen(rest)))
            cli_error("the key must be valid UTF-8");
        else
            repl_request(r, CLI_SEARCH, rest, strlen(rest));
        return 0;
    }
    int is_ping = is_command(word, word_len, "ping"), is_stats = is_command(word, word_len, "stats");
    int is_help = is_command(word, word_len, "help");
    int is_quit = is_command(word, word_len, "quit") || is_command(word, word_len, "exit");
    if (!is_ping && !is_stats && !is_help && !is_quit) {
        cli_error("unknown command '%.*s': type help for the commands", (int)word_len, word);
        return 0;
    }
    if (*rest != '\0') {
        cli_error("%.*s takes no argument", (int)word_len, word);
        return 0;
    }
    if (is_quit)
        return 1;
    if (is_help)
        fputs(repl_help, stdout);
    else
        repl_request(r, is_ping ? CLI_PING : CLI_STATS, NULL, 0);
    return 0;
}

static void repl_on_signal(int sig)
{
    repl_signal = sig;
}

static const int repl_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define REPL_NSIGNALS ((int)(sizeof(repl_signals) / sizeof(repl_signals[0])))
/* The signal mask to wait for input with: the program's own, where the
 * signals above are not blocked. */
static sigset_t repl_wait_mask;

/* SIGINT, SIGTERM and SIGHUP end the prompt, as Ctrl-D does, with the
 * terminal restored. They are blocked but while repl_getc waits for input
 * (ppoll unblocks them for as long as it waits, so none can slip in
 * between a check and the wait); the handler sets repl_signal and
 * repl_getc returns an error, which ends el_gets(). libedit's own
 * EL_SIGNAL is not used: it passes a signal on with kill(0, sig), to the
 * whole process group. A signal during a command cuts its waits short
 * (evkv_client_set_interrupt, waiting with the same mask): SIGINT then
 * abandons the command and its connection (repl_exchange), and the
 * prompt comes back, as in redis-cli; SIGTERM and SIGHUP end the prompt. */
static void repl_catch_signals(struct sigaction *old, sigset_t *old_mask)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = repl_on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    for (int i = 0; i < REPL_NSIGNALS; i++) {
        sigaction(repl_signals[i], &sa, &old[i]);
        sigaddset(&block, repl_signals[i]);
    }
    sigprocmask(SIG_BLOCK, &block, old_mask);
    repl_wait_mask = *old_mask;
    for (int i = 0; i < REPL_NSIGNALS; i++)
        sigdelset(&repl_wait_mask, repl_signals[i]);
}

static void repl_restore_signals(const struct sigaction *old, const sigset_t *old_mask)
{
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    for (int i = 0; i < REPL_NSIGNALS; i++)
        sigaction(repl_signals[i], &old[i], NULL);
}

/* libedit's character reader (EL_GETCFN): one character of stdin, decoded
 * by the locale (as libedit's own reader does), waiting with the signals
 * above let through. Returns 1, 0 at end of input, or -1 on an error or
 * one of those signals. */
static int repl_getc(EditLine *el, wchar_t *wc)
{
    mbstate_t st;
    (void)el;

    memset(&st, 0, sizeof(st));
    for (;;) {
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        char byte;

        if (repl_signal)
            return -1;
        if (ppoll(&p, 1, NULL, &repl_wait_mask) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        ssize_t n = read(STDIN_FILENO, &byte, 1);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        size_t k = mbrtowc(wc, &byte, 1, &st);
        if (k == (size_t)-2)
            continue; /* more bytes of this character to come */
        if (k == (size_t)-1) {
            memset(&st, 0, sizeof(st)); /* not a character here: dropped */
            continue;
        }
        return 1;
    }
}

int cli_repl_run(const cli_options *o)
{
    repl r = {.o = o, .s = {.o = o}};
    HistEvent ev;
    const char *line;
    struct sigaction old_sa[REPL_NSIGNALS];
    sigset_t old_mask;
    int len, status = EXIT_FOUND, caught = 0;

    /* libedit reads multibyte characters by the locale's rules: without
     * this, a key such as U+1F436 could not be typed. */
    setlocale(LC_CTYPE, "");
    snprintf(r.prompt, sizeof(r.prompt), "evkv %s> ", o->where);
    r.histfile = repl_histfile_path();
    r.hist = history_init();
    r.el = el_init("evkv-cli", stdin, stdout, stderr);
    if (r.hist == NULL || r.el == NULL) {
        fprintf(stderr, "evkv-cli: cannot set up line editing\n");
        status = EXIT_ERROR;
        goto done;
    }
    history(r.hist, &ev, H_SETSIZE, REPL_HISTORY_SIZE);
    history(r.hist, &ev, H_SETUNIQUE, 1);
    repl_history_load(&r);
    el_set(r.el, EL_CLIENTDATA, &r);
    el_set(r.el, EL_PROMPT, repl_prompt);
    el_set(r.el, EL_EDITOR, "emacs");
    el_set(r.el, EL_HIST, history, r.hist);
    /* The wide call: el_set(EL_ADDFN) copies the two strings and never
     * frees them (a leak libedit's own source admits); el_wset keeps these
     * static ones as they are. */
    el_wset(r.el, EL_ADDFN, L"evkv-complete", L"complete a command name", repl_complete);
    el_set(r.el, EL_BIND, "^I", "evkv-complete", NULL);
    el_set(r.el, EL_GETCFN, repl_getc);
    el_source(r.el, NULL); /* ~/.editrc, as other libedit programs read it */
    repl_catch_signals(old_sa, &old_mask);
    evkv_client_set_interrupt(&repl_signal, &repl_wait_mask);
    caught = 1;

    /* Connect now, so that a server that is down is reported at once;
     * the first command tries again. */
    cli_session_connect(&r.s);
    while (!repl_signal && (line = el_gets(r.el, &len)) != NULL && len > 0) {
        char *copy = strdup(line);
        if (copy == NULL) {
            fprintf(stderr, "evkv-cli: out of memory\n");
            break;
        }
        copy[strcspn(copy, "\n")] = '\0';
        if (copy[strspn(copy, " \t")] != '\0') {
            history(r.hist, &ev, H_ENTER, copy);
            repl_history_save(&r);
        }
        int quit = repl_run_line(&r, copy);
        free(copy);
        if (quit)
            goto done;
    }
    /* End of input (Ctrl-D): end the prompt's line. */
    putchar('\n');
done:
    if (caught) {
        evkv_client_set_interrupt(NULL, NULL);
        repl_restore_signals(old_sa, &old_mask);
    }
    fflush(stdout);
    cli_session_close(&r.s);
    if (r.el)
        el_end(r.el);
    if (r.hist)
        history_end(r.hist);
    free(r.histfile);
    /* SIGTERM and SIGHUP end the program as they would have, now that the
     * terminal is restored; Ctrl-C leaves the prompt like Ctrl-D. */
    if (repl_signal == SIGTERM || repl_signal == SIGHUP) {
        signal(repl_signal, SIG_DFL);
        raise(repl_signal);
    }
    return status;
}
