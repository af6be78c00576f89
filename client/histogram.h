/*
 * histogram.h: a log-linear latency histogram.
 *
 * Values (nanoseconds) below 128 are counted exactly; above, each power of
 * two is split into 64 equal buckets, so a bucket is at most 1/64 of the
 * values in it wide. Percentiles report a bucket's midpoint: the relative
 * error is at most 1/128 (0.8%), for values up to 2^40 ns (18 minutes;
 * larger values are counted in the last bucket). 2,240 counters, 18 KiB.
 * Not thread-safe: one per thread, merged at the end (histogram_add).
 */
#ifndef EVKV_HISTOGRAM_H
#define EVKV_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 6
#define HISTOGRAM_SUB      (1u << HISTOGRAM_SUB_BITS) /* buckets per power of two */
#define HISTOGRAM_MAX_BITS 40                         /* values up to 2^40 */
#define HISTOGRAM_BUCKETS  (2 * HISTOGRAM_SUB + (HISTOGRAM_MAX_BITS - HISTOGRAM_SUB_BITS - 1) * HISTOGRAM_SUB)

typedef struct histogram {
    uint64_t count;
    uint64_t min, max; /* exact */
    uint64_t buckets[HISTOGRAM_BUCKETS];
} histogram;

void histogram_init(histogram *h);
void histogram_record(histogram *h, uint64_t value);
/* Adds every count of src into dst. */
void histogram_add(histogram *dst, const histogram *src);
/* The value at percentile p (0..100): the midpoint of its bucket, clamped
 * to [min, max]. 0 for an empty histogram. */
uint64_t histogram_percentile(const histogram *h, double p);

/* Bucket index of a value, and the [low, high] range of a bucket (exposed
 * for the tests). */
unsigned histogram_bucket(uint64_t value);
void histogram_bucket_range(unsigned bucket, uint64_t *low, uint64_t *high);

#endif
