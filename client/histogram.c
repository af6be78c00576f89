/*
 * histogram.c: log-linear buckets (see histogram.h).
 *
 * Bucket index: v < 2*SUB is its own bucket. Otherwise, with m the position
 * of v's top bit and shift = m - SUB_BITS, v >> shift is in [SUB, 2*SUB):
 * the index is 2*SUB + (shift - 1)*SUB + (v >> shift) - SUB.
 */
#include "histogram.h"

#include <string.h>

void histogram_init(histogram *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned histogram_bucket(uint64_t v)
{
    if (v < 2 * HISTOGRAM_SUB)
        return (unsigned)v;
    if (v >> HISTOGRAM_MAX_BITS)
        return HISTOGRAM_BUCKETS - 1;
    unsigned m = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = m - HISTOGRAM_SUB_BITS;
    return 2 * HISTOGRAM_SUB + (shift - 1) * HISTOGRAM_SUB + (unsigned)(v >> shift) - HISTOGRAM_SUB;
}

void histogram_bucket_range(unsigned b, uint64_t *low, uint64_t *high)
{
    if (b < 2 * HISTOGRAM_SUB) {
        *low = *high = b;
        return;
    }
    unsigned shift = (b - 2 * HISTOGRAM_SUB) / HISTOGRAM_SUB + 1;
    uint64_t mant = (b - 2 * HISTOGRAM_SUB) % HISTOGRAM_SUB + HISTOGRAM_SUB;
    *low = mant << shift;
    *high = ((mant + 1) << shift) - 1;
}

void histogram_record(histogram *h, uint64_t v)
{
    h->buckets[histogram_bucket(v)]++;
    h->count++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void histogram_add(histogram *dst, const histogram *src)
{
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t histogram_percentile(const histogram *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    /* The rank of the sample at p: the smallest r with r >= p% of count. */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            histogram_bucket_range(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            if (mid < h->min)
                mid = h->min;
            if (mid > h->max)
                mid = h->max;
            return mid;
        }
    }
    return h->max;
}
