/*
 * clock.c: the clients' monotonic clock (see clock.h).
 */
#include "clock.h"

#include <limits.h>
#include <time.h>

uint64_t evkv_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t evkv_clock_ms(void)
{
    return (int64_t)(evkv_clock_ns() / 1000000u);
}

int evkv_ms_until(int64_t deadline)
{
    int64_t left = deadline - evkv_clock_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}
