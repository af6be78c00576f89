/*
 * options.h: evkv-server's settings: defaults, then the config file (-c),
 * then the command line, each overriding what came before.
 *
 * The config file holds one `option value` per line, with the long flags'
 * names (`port 7000`, `data /var/lib/evkv/data.tsv`); the value is the rest
 * of the line, so it may hold spaces. A flag without a value is written
 * alone or with yes/no. Blank lines and lines starting with # are ignored.
 */
#ifndef EVKV_OPTIONS_H
#define EVKV_OPTIONS_H

#include "server.h"

typedef struct server_config {
    server_options opt;
    const char *config_path; /* -c FILE, or NULL */
    int check_config;        /* --check-config: validate and exit */
    char **strings;          /* values read from the config file, owned */
    size_t nstrings;
} server_config;

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

/* Prints --help to out. */
void options_usage(FILE *out);

#endif
