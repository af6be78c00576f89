/*
 * test_nc_hash.c: unit tests of server/nc_hash.c (twemproxy's key hashes)
 * and of server/shard.c's ring on small nutcracker configs.
 *
 * The known values are libmemcached's (test/fixtures/hashes.hpp), whose
 * hashkit twemproxy's was taken from: one_at_a_time, md5, crc (twemproxy's
 * crc32), fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur and jenkins
 * over the same 26 words. crc32a and crc16 are checked against the
 * standard CRC-32 and CRC-16/XMODEM check values. Whole-ring routing is
 * checked against the real nutcracker in tests/integration/test_shard.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nc_hash.h"
#include "shard.h"

static const char *words[] = {
    "apple",      "beat",
    "carrot",     "daikon",
    "eggplant",   "flower",
    "green",      "hide",
    "ick",        "jack",
    "kick",       "lime",
    "mushrooms",  "nectarine",
    "orange",     "peach",
    "quant",      "ripen",
    "strawberry", "tang",
    "up",         "volumne",
    "when",       "yellow",
    "zip",        "The quick brown fox jumps over the lazy dog",
};

static const struct {
    const char *name;
    uint32_t values[26];
} known[] = {
    {"one_at_a_time", {2297466611U, 3902465932U, 469785835U,  1937308741U, 261917617U,  3785641677U, 1439605128U,
                       1649152283U, 1493851484U, 1246520657U, 2221159044U, 1973511823U, 384136800U,  214358653U,
                       2379473940U, 4269788650U, 2864377005U, 2638630052U, 427683330U,  990491717U,  1747111141U,
                       792127364U,  2599214128U, 2553037199U, 2509838425U, 1369346549U}},
    {"md5", {3195025439U, 2556848621U, 3724893440U, 3332385401U, 245758794U,  2550894432U, 121710495U,
             3053817768U, 1250994555U, 1862072655U, 2631955953U, 2951528551U, 1451250070U, 2820856945U,
             2060845566U, 3646985608U, 2138080750U, 217675895U,  2230934345U, 1234361223U, 3968582726U,
             2455685270U, 1293568479U, 199067604U,  2042482093U, 2642219166U}},
    {"crc32", {10542U, 22009U, 14526U, 19510U, 19432U, 10199U, 20634U, 9369U,  11511U, 10362U, 7893U,  31289U, 11313U,
               9354U,  7621U,  30628U, 15218U, 25967U, 2695U,  9380U,  17300U, 28156U, 9192U,  20484U, 16925U, 16719U}},
    {"fnv1_64", {473199127U,  4148981457U, 3971873300U, 3257986707U, 1722477987U, 2991193800U, 4147007314U,
                 3633179701U, 1805162104U, 3503289120U, 3395702895U, 3325073042U, 2345265314U, 3340346032U,
                 2722964135U, 1173398992U, 2815549194U, 2562818319U, 224996066U,  2680194749U, 3035305390U,
                 246890365U,  2395624193U, 4145193337U, 1801941682U, 2112060110U}},
    {"fnv1a_64", {1488911807U, 2500855813U, 1510099634U, 1390325195U, 3647689787U, 3241528582U, 1669328060U,
                  2604311949U, 734810122U,  1516407546U, 560948863U,  1767346780U, 561034892U,  4156330026U,
                  3716417003U, 3475297030U, 1518272172U, 227211583U,  3938128828U, 126112909U,  3043416448U,
                  3131561933U, 1328739897U, 2455664041U, 2272238452U, 3890508048U}},
    {"fnv1_32", {67176023U,   1190179409U, 2043204404U, 3221866419U, 2567703427U, 3787535528U, 4147287986U,
                 3500475733U, 344481048U,  3865235296U, 2181839183U, 119581266U,  510234242U,  4248244304U,
                 1362796839U, 103389328U,  1449620010U, 182962511U,  3554262370U, 3206747549U, 1551306158U,
                 4127558461U, 1889140833U, 2774173721U, 1180552018U, 3922226286U}},
    {"fnv1a_32", {280767167U,  2421315013U, 3072375666U, 855001899U,  459261019U,  3521085446U, 18738364U,
                  1625305005U, 2162232970U, 777243802U,  3323728671U, 132336572U,  3654473228U, 260679466U,
                  1169454059U, 2698319462U, 1062177260U, 235516991U,  2218399068U, 405302637U,  1128467232U,
                  3579622413U, 2138539289U, 96429129U,   2877453236U, 76545936U}},
    {"hsieh", {3738850110U, 3636226060U, 3821074029U, 3489929160U, 3485772682U, 80540287U,   1805464076U,
               1895033657U, 409795758U,  979934958U,  3634096985U, 1284445480U, 2265380744U, 707972988U,
               353823508U,  1549198350U, 1327930172U, 9304163U,    4220749037U, 2493964934U, 2777873870U,
               2057831732U, 1510213931U, 2027828987U, 3395453351U, 471461527U}},
    {"murmur", {4142305122U, 734504955U,  3802834688U, 4076891445U, 387802650U,  560515427U,  3274673488U,
                3150339524U, 1527441970U, 2728642900U, 3613992239U, 2938419259U, 2321988328U, 1145154116U,
                4038540960U, 2224541613U, 264013145U,  3995512858U, 2400956718U, 2346666219U, 926327338U,
                442757446U,  1770805201U, 560483147U,  3902279934U, 818385189U}},
    {"jenkins", {1442444624U, 4253821186U, 1885058256U, 2120131735U, 3261968576U, 3515188778U, 4232909173U,
                 4288625128U, 1812047395U, 3689182164U, 2502979932U, 1214050606U, 2415988847U, 1494268927U,
                 1025545760U, 3920481083U, 4153263658U, 3824871822U, 3072759809U, 798622255U,  3065432577U,
                 1453328165U, 2691550971U, 3408888387U, 2629893356U, 314054204U}},
};

static void test_known_values(void **state)
{
    (void)state;
    for (size_t h = 0; h < sizeof(known) / sizeof(known[0]); h++) {
        nc_hash_fn fn = nc_hash_by_name(known[h].name);
        assert_non_null(fn);
        for (size_t i = 0; i < 26; i++) {
            uint32_t got = fn(words[i], strlen(words[i]));
            if (got != known[h].values[i])
                fail_msg("%s(\"%s\") = %u, not %u", known[h].name, words[i], got, known[h].values[i]);
        }
    }
}

static void test_crc_check_values(void **state)
{
    (void)state;
    assert_int_equal(nc_hash_crc32a("123456789", 9), 0xcbf43926u);
    /* twemproxy's crc16 keeps the bits above 16: the low ones are the CRC */
    assert_int_equal(nc_hash_crc16("123456789", 9) & 0xffff, 0x31c3);
    assert_int_equal(nc_hash_crc32("123456789", 9), (0xcbf43926u >> 16) & 0x7fff);
}

static void test_md5(void **state)
{
    unsigned char d[16];
    static const unsigned char abc[16] = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
                                          0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72};
    char long_text[200];
    (void)state;
    nc_md5("abc", 3, d);
    assert_memory_equal(d, abc, 16);
    /* 56 to 64 bytes: the length goes into a second padding block */
    memset(long_text, 'a', sizeof(long_text));
    nc_md5(long_text, 56, d);
    assert_int_equal(d[0], 0x3b); /* md5("a" * 56) = 3b0c8ac703f828b04c6c197006d17218 */
    assert_int_equal(d[15], 0x18);
    nc_md5("", 0, d);
    assert_int_equal(nc_ketama_point("", 0, 0), 0xd98c1dd4u); /* d41d8cd9... */
}

static void test_hash_names(void **state)
{
    (void)state;
    assert_null(nc_hash_by_name("random"));
    assert_null(nc_hash_by_name("FNV1A_64"));
    assert_ptr_equal(nc_hash_by_name("fnv1a_64"), nc_hash_fnv1a_64);

    /* One list makes the kinds, the names, the functions and the text that
     * names them all: each name finds its kind again, in twemproxy's order. */
    assert_int_equal(NC_HASH_COUNT, 12);
    assert_string_equal(nc_hash_names_text, "one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, "
                                            "fnv1a_32, hsieh, murmur, jenkins");
    nc_hash_kind kind;
    for (int k = 0; k < NC_HASH_COUNT; k++) {
        assert_int_equal(nc_hash_lookup(nc_hash_name((nc_hash_kind)k), &kind), 0);
        assert_int_equal(kind, k);
        assert_ptr_equal(nc_hash_function(kind), nc_hash_by_name(nc_hash_name(kind)));
    }
    assert_int_equal(nc_hash_lookup("sha1", &kind), -1);
    assert_ptr_equal(nc_hash_function(NC_HASH_MD5), nc_hash_md5);

    nc_dist dist;
    for (int d = 0; d < NC_DIST_COUNT; d++) {
        assert_int_equal(nc_dist_lookup(nc_dist_name((nc_dist)d), &dist), 0);
        assert_int_equal(dist, d);
    }
    assert_string_equal(nc_dist_name(NC_DIST_MODULA), "modula");
    assert_int_equal(nc_dist_lookup("Ketama", &dist), -1);
}

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *write_yaml(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/evkv-test-shard-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_ring_config(void **state)
{
    char err[512];
    shard *s;
    (void)state;
    const char *path =
        write_yaml("alpha:\n  listen: 127.0.0.1:22121\n  hash: md5\n  distribution: modula\n"
                   "  hash_tag: \"{}\"\n  servers:\n   - 10.0.0.1:6379:2 bb\n   - 10.0.0.2:6379:1 a\n"
                   "   - 10.0.0.3:11211:1\n   - 10.0.0.4:6380:1\n"
                   "beta:\n  listen: 127.0.0.1:22122\n  distribution: random\n  servers:\n   - 10.0.0.1:6379:1\n");
    /* two pools: which one must be said */
    assert_null(shard_load(path, NULL, "a", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "--shard-pool"));
    assert_null(shard_load(path, "beta", "10.0.0.1:6379", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "random"));
    assert_null(shard_load(path, "gamma", "a", NULL, err, sizeof(err)));
    assert_null(shard_load(path, "alpha", "zz", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "no server named zz"));

    s = shard_load(path, "alpha", "bb", NULL, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(nc_hash_name(s->hash_kind), "md5");
    assert_ptr_equal(s->hash, nc_hash_md5);
    assert_string_equal(nc_dist_name(s->distribution), "modula");
    assert_int_equal(s->nservers, 4);
    /* nutcracker's order: shorter names first; 11211 drops the port */
    assert_string_equal(s->names[0], "a");
    assert_string_equal(s->names[1], "bb");
    assert_string_equal(s->names[2], "10.0.0.3");
    assert_string_equal(s->names[3], "10.0.0.4:6380");
    assert_int_equal(s->self, 1);
    /* modula: slots a, bb, bb, 10.0.0.3, 10.0.0.4:6380 */
    for (int i = 0; i < 200; i++) {
        char key[32];
        int n = snprintf(key, sizeof(key), "k%d", i);
        uint32_t slot = nc_hash_md5(key, (size_t)n) % 5;
        size_t want = slot == 0 ? 0 : slot <= 2 ? 1 : slot - 1;
        assert_int_equal(shard_route(s, key, (size_t)n), want);
        /* only the part between the tag's characters is hashed */
        char tagged[48];
        int m = snprintf(tagged, sizeof(tagged), "user:{%s}:name", key);
        assert_int_equal(shard_route(s, tagged, (size_t)m), want);
    }
    shard_free(s);
    unlink(path);

    path = write_yaml("p:\n  listen: 127.0.0.1:22121\n  hash: sha1\n  servers:\n   - 10.0.0.1:6379:1\n");
    assert_null(shard_load(path, NULL, "10.0.0.1:6379", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "hash 'sha1' is not one of nutcracker's (one_at_a_time, md5, crc16, crc32, crc32a, "
                                "fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)"));
    unlink(path);
    path = write_yaml("p:\n  listen: 127.0.0.1:22121\n  distribution: consistent\n  servers:\n   - 10.0.0.1:6379:1\n");
    assert_null(shard_load(path, NULL, "10.0.0.1:6379", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "distribution 'consistent' is not ketama, modula or random"));
    unlink(path);
    path = write_yaml("p:\n  listen: 127.0.0.1:22121\n  servers:\n   - 10.0.0.1:6379:0 a\n");
    assert_null(shard_load(path, NULL, "a", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "zero weight"));
    unlink(path);
    path = write_yaml("p:\n  listen: 127.0.0.1:22121\n  servers:\n   - 10.0.0.1:6379:1 a\n   - 10.0.0.2:6379:1 a\n");
    assert_null(shard_load(path, NULL, "a", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "two servers named a"));
    unlink(path);
    assert_null(shard_load("/nonexistent/nc.yml", NULL, "a", NULL, err, sizeof(err)));

    /* a stop gives the reading up: a reload's loader thread then ends at once */
    atomic_int cancel;
    atomic_init(&cancel, 1);
    path = write_yaml("p:\n  listen: 127.0.0.1:22121\n  servers:\n   - 10.0.0.1:6379:1 a\n");
    assert_null(shard_load(path, NULL, "a", &cancel, err, sizeof(err)));
    assert_non_null(strstr(err, "cancelled"));
    atomic_store(&cancel, 0);
    s = shard_load(path, NULL, "a", &cancel, err, sizeof(err));
    assert_non_null(s);
    shard_free(s);
    unlink(path);
}

/* ketama's point count per server is floor(share * 40 * n) * 4, in float:
 * equal weights give 160 each; weights 1, 2, 1 give 120, 240, 120. */
static void test_ketama_points(void **state)
{
    char err[512];
    (void)state;
    const char *path =
        write_yaml("p:\n  listen: 127.0.0.1:22121\n  servers:\n   - 127.0.0.1:7001:1 a\n   - 127.0.0.1:7002:2 b\n"
                   "   - 127.0.0.1:7003:1 c\n");
    shard *s = shard_load(path, NULL, "b", NULL, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(nc_hash_name(s->hash_kind), "fnv1a_64");
    assert_string_equal(nc_dist_name(s->distribution), "ketama");
    assert_int_equal(s->npoints, 480);
    for (size_t i = 1; i < s->npoints; i++)
        assert_true(s->points[i - 1].value <= s->points[i].value);
    shard_free(s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values), cmocka_unit_test(test_crc_check_values),
        cmocka_unit_test(test_md5),          cmocka_unit_test(test_hash_names),
        cmocka_unit_test(test_ring_config),  cmocka_unit_test(test_ketama_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
