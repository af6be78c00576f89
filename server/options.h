/*
 * options.h: evkv-server's settings: defaults, then the config file (-c),
 * then the command line, each overriding what came before.
 *
 * Every option is one row of one table (options.c), as Redis's config.c
 * keeps them: its name (the long flag and the config file's key), its
 * short flag, how its value is read and where it is kept, its default, its
 * --help text, and flags such as "a reload cannot change it". The command
 * line, the config file reader, --help and the reload's warning all read
 * that table: a new option is one new row (and its field in
 * server_options).
 *
 * The config file holds one `option value` per line, with the long flags'
 * names (`port 7000`, `data /var/lib/evkv/data.tsv`); the value is the rest
 * of the line, so it may hold spaces. A flag without a value is written
 * alone or with yes/no. Blank lines and lines starting with # are ignored.
 */
#ifndef EVKV_OPTIONS_H
#define EVKV_OPTIONS_H

#include <stdio.h>

#include "server.h"

typedef struct server_config {
    server_options opt;
    const char *config_path; /* -c FILE, or NULL */
    int check_config;        /* --check-config: validate and exit */
    char **strings;          /* values read from the config file, owned */
    size_t nstrings;
} server_config;

/* How an option's value is read, kept and compared. */
typedef enum option_kind {
    OPTION_FLAG,      /* no value: an int set to 1 (yes or no in the config file) */
    OPTION_VERBOSE,   /* no value: log_level debug (no: back to info) */
    OPTION_ACTION,    /* no value: --help or --version, printed at once */
    OPTION_STRING,    /* any text, kept as given (a const char *) */
    OPTION_NONEMPTY,  /* text that may not be empty: "needs" says what */
    OPTION_PORT,      /* a TCP port: "0" is no listener (NULL), "any" a free port (kept as "0") */
    OPTION_MODE,      /* an octal file mode, 0 to 0777 (an int) */
    OPTION_INT,       /* a whole number from min to max (an int) */
    OPTION_SIZE,      /* a whole number from min to max (a size_t) */
    OPTION_SECONDS,   /* a whole number of seconds from min to max (a long) */
    OPTION_FORMAT,    /* json or tsv (a datafile_format) */
    OPTION_LOG_LEVEL, /* error, warn, info or debug (a log_level) */
    OPTION_YESNO,     /* yes or no (an int, 1 or 0), given as a value on the command line too */
} option_kind;

/* An option's flags. */
enum {
    OPTION_RESTART = 1 << 0,  /* a reload cannot change it: the running value stays, and the log says so */
    OPTION_CLI_ONLY = 1 << 1, /* command line only, read before the config file */
    OPTION_AUTO = 1 << 2,     /* 0 until the start picks a value: a reload's 0 changes nothing */
};

/* One row of the option table. */
typedef struct option_spec {
    const char *name;   /* the long option and the config file's key */
    char short_name;    /* its short option, or 0 */
    option_kind kind;   /* how its value is read */
    size_t offset;      /* where the value is kept: offsetof(server_config, ...) */
    size_t name_offset; /* where the name it was given by is kept (listen_names), or 0 */
    size_t min, max;    /* the range of OPTION_INT, _SIZE and _SECONDS */
    const char *def;    /* the default of a text option, or NULL */
    long long def_num;  /* the default of a number option */
    const char *arg;    /* what --help calls the value ("PORT"), or NULL for none */
    const char *must;   /* what a bad value's error says it must be (or need) */
    const char *help;   /* --help's text, where {default} stands for the default */
    unsigned flags;     /* OPTION_* */
} option_spec;

/* The table, in --help's order, and its number of rows. */
extern const option_spec options_table[];
extern const size_t options_count;

enum {
    OPTIONS_OK = 0,
    OPTIONS_DONE,  /* --help or --version was printed: exit 0 */
    OPTIONS_ERROR, /* err says what is wrong: exit 2 */
};

/* Builds cfg from the defaults, the config file named by -c, and argv, in
 * that order. Returns OPTIONS_OK, OPTIONS_DONE, or OPTIONS_ERROR with the
 * reason in err (a config file error names the file and line). The threads
 * and max_conns defaults (0) are left for the caller to fill in. Safe to
 * call again (for a reload) once the first call returned. */
int options_parse(server_config *cfg, int argc, char **argv, char *err, size_t errlen);
void options_free(server_config *cfg);

/* Whether option spec holds different values in a and b. A 0 in b of an
 * OPTION_AUTO option (not given: the start picks it) is no change. */
int options_differ(const option_spec *spec, const server_config *a, const server_config *b);

/* Prints --help to out. */
void options_usage(FILE *out);

#endif
