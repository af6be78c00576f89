/*
 * cli_modes.h: evkv-cli's modes other than the one-shot commands, each in
 * a file of its own; cli.c reads the command line and runs one of them.
 * Each returns the exit status (cli.h).
 */
#ifndef EVKV_CLI_MODES_H
#define EVKV_CLI_MODES_H

#include "cli.h"

/* Looks up every line of stdin (cli_batch.c); with --cluster, by
 * cli_cluster_run. */
int cli_batch_run(const cli_options *o);

/* --cluster: looks up the nkeys keys one after the other, each at its
 * slot's node of the cluster o names, and prints each answer; a batch
 * stops at an answer that does not come (cli_cluster.c). */
int cli_cluster_run(const cli_options *o, char *const *keys, size_t nkeys);

/* Round trips ping --latency makes when stdout is not a terminal and -n
 * is not given, so that a script always ends. */
#define LATENCY_DEFAULT_COUNT 100
/* The pause between two round trips unless -i says otherwise. */
#define LATENCY_DEFAULT_INTERVAL_MS 10.0

/* Round trips of ping, count times (0: until Ctrl-C; -1: the default for
 * the terminal or not), interval_ms apart (cli_latency.c). */
int cli_latency_run(const cli_options *o, long count, double interval_ms);

/* --stat: a line of the server's figures every interval_ms, lines times
 * (-1: until Ctrl-C) (cli_stat.c). */
int cli_stat_run(const cli_options *o, long lines, double interval_ms);

/* The interactive prompt, until quit, exit or end of input; stdin is a
 * terminal (cli_repl.c). */
int cli_repl_run(const cli_options *o);

#endif
