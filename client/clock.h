/*
 * clock.h: the monotonic clock the client programs keep their deadlines
 * and their timings on, so that a change of the wall clock moves neither.
 * One helper for evkv-cli, evkv-bench and the client layer.
 */
#ifndef EVKV_CLOCK_H
#define EVKV_CLOCK_H

#include <stdint.h>

/* Now on CLOCK_MONOTONIC, in nanoseconds (for timings). */
uint64_t evkv_clock_ns(void);
/* Now on CLOCK_MONOTONIC, in milliseconds (for deadlines). */
int64_t evkv_clock_ms(void);
/* Milliseconds from now to deadline (an evkv_clock_ms() value), 0 if it
 * has passed: a poll() timeout. */
int evkv_ms_until(int64_t deadline);

#endif
