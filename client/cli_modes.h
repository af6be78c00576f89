/*
 * cli_modes.h: evkv-cli's modes other than the one-shot commands, each in
 * a file of its own; cli.c reads the command line and runs one of them.
 * Each returns the exit status (cli.h).
 */
#ifndef EVKV_CLI_MODES_H
#define EVKV_CLI_MODES_H

#include "cli.h"

/* Looks up every line of stdin (cli_batch.c). */
int cli_batch_run(const cli_options *o);

/* Round trips ping --latency makes when stdout is not a terminal and -n
 * is not given, so that a script always ends. */
#define LATENCY_DEFAULT_COUNT 100

/* Round trips of ping, count times (0: until Ctrl-C; -1: the default for
 * the terminal or not), interval_ms apart (cli_latency.c). */
int cli_latency_run(const cli_options *o, long count, double interval_ms);

/* The interactive prompt, until quit, exit or end of input; stdin is a
 * terminal (cli_repl.c). */
int cli_repl_run(const cli_options *o);

#endif
