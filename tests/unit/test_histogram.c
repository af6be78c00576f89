/*
 * test_histogram.c: unit tests of evkv-bench's latency histogram.
 *
 * docs/load-testing.md states that percentiles are within 1/128 (0.8%) of the true
 * value: checked here against exact percentiles of known inputs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The sample at percentile p of sorted[0..n): the smallest with at least
 * p% of the samples at or below it. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

static void check_percentiles(uint64_t *values, size_t n)
{
    static const double pcts[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    histogram h;
    histogram_init(&h);
    for (size_t i = 0; i < n; i++)
        histogram_record(&h, values[i]);
    qsort(values, n, sizeof(*values), cmp_u64);
    assert_int_equal(h.count, n);
    assert_int_equal(h.min, values[0]);
    assert_int_equal(h.max, values[n - 1]);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        double want = (double)exact_percentile(values, n, pcts[i]);
        double got = (double)histogram_percentile(&h, pcts[i]);
        if (fabs(got - want) > want / 128.0 + 0.5)
            fail_msg("p%g: got %.0f, exact %.0f (over 1/128 off)", pcts[i], got, want);
    }
}

static uint64_t rng_state = 42;
static uint64_t rng(void)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return rng_state >> 11;
}

static void test_uniform(void **state)
{
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v));
    (void)state;
    for (size_t i = 0; i < n; i++)
        v[i] = 1000 + rng() % 10000000; /* 1 us .. 10 ms in ns */
    check_percentiles(v, n);
    free(v);
}

static void test_long_tail(void **state)
{
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v));
    (void)state;
    /* log-uniform over 7 decades: every bucket size is exercised */
    for (size_t i = 0; i < n; i++)
        v[i] = (uint64_t)pow(10.0, 2.0 + 7.0 * (double)(rng() % 1000000) / 1e6);
    check_percentiles(v, n);
    free(v);
}

static void test_small_values_exact(void **state)
{
    histogram h;
    (void)state;
    histogram_init(&h);
    for (uint64_t i = 0; i < 100; i++)
        histogram_record(&h, i);
    /* below 128 every value has its own bucket */
    assert_int_equal(histogram_percentile(&h, 50), 49);
    assert_int_equal(histogram_percentile(&h, 90), 89);
    assert_int_equal(histogram_percentile(&h, 100), 99);
    assert_int_equal(histogram_percentile(&h, 0), 0);
}

static void test_buckets_tile_the_range(void **state)
{
    uint64_t prev_high = 0;
    (void)state;
    for (unsigned b = 0; b < HISTOGRAM_BUCKETS; b++) {
        uint64_t lo, hi;
        histogram_bucket_range(b, &lo, &hi);
        if (b > 0)
            assert_int_equal(lo, prev_high + 1); /* no gap, no overlap */
        assert_true(hi >= lo);
        assert_int_equal(histogram_bucket(lo), b);
        assert_int_equal(histogram_bucket(hi), b);
        /* width within 1/64 of the bucket's values */
        assert_true((hi - lo + 1) * 64 <= (lo > 0 ? lo : 1) || lo < 128);
        prev_high = hi;
    }
    assert_int_equal(prev_high, (UINT64_C(1) << HISTOGRAM_MAX_BITS) - 1);
    /* values past the range land in the last bucket */
    assert_int_equal(histogram_bucket(UINT64_MAX), HISTOGRAM_BUCKETS - 1);
}

static void test_add_merges(void **state)
{
    histogram a, b, all;
    (void)state;
    histogram_init(&a);
    histogram_init(&b);
    histogram_init(&all);
    for (uint64_t i = 1; i <= 5000; i++) {
        histogram_record(i % 2 ? &a : &b, i * 1000);
        histogram_record(&all, i * 1000);
    }
    histogram_add(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.buckets, all.buckets, sizeof(a.buckets));
    assert_int_equal(histogram_percentile(&a, 99), histogram_percentile(&all, 99));
}

static void test_empty(void **state)
{
    histogram h;
    (void)state;
    histogram_init(&h);
    assert_int_equal(histogram_percentile(&h, 50), 0);
    assert_int_equal(h.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_long_tail),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_buckets_tile_the_range),
        cmocka_unit_test(test_add_merges),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
