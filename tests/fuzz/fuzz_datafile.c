/*
 * fuzz_datafile.c: a data file loaded in place (load_file: the table built
 * in the file's own bytes) and the plain way (datafile_read into a table
 * that copies every entry) must agree: both load, with the same entries
 * and kinds, or both fail with the same message.
 *
 * Input: the first byte's low bit picks the format (0 TSV, 1 JSON); the
 * rest is the file, written to a memfd (a regular file, as a data file
 * must be) read through /proc/self/fd.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "load.h"
#include "table.h"

static int copy_begin(void *arg, size_t expected, size_t expected_bytes)
{
    table **t = arg;
    table_free(*t);
    *t = table_new(expected, expected_bytes);
    return *t ? 0 : -1;
}

static int copy_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done)
{
    (void)done;
    return table_put_iov(*(table **)arg, key, key_len, value, nvalue);
}

/* Every entry of a is in b, with the same value and kind. */
static void same_entries(const table *a, const table *b)
{
    if (table_size(a) != table_size(b))
        fuzz_fail("%zu keys copied, %zu in place", table_size(a), table_size(b));
    for (size_t s = 0; s < table_slots(a); s++) {
        const char *k, *v1, *v2;
        size_t klen, l1, l2;
        table_kind k1, k2;
        if (!table_slot_key(a, s, &k, &klen))
            continue;
        if (table_get(a, k, klen, &v1, &l1, &k1) != 1 || table_get(b, k, klen, &v2, &l2, &k2) != 1) {
            fuzz_print_bytes("key", k, klen);
            fuzz_fail("a key copied is not in place");
        }
        if (l1 != l2 || memcmp(v1, v2, l1) != 0 || k1 != k2) {
            fuzz_print_bytes("copied", v1, l1);
            fuzz_print_bytes("in place", v2, l2);
            fuzz_fail("a value differs");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err_in[512] = "", err_copy[512] = "";
    if (size < 1)
        return 0;
    datafile_format format = data[0] & 1 ? DATAFILE_JSON : DATAFILE_TSV;
    int fd = memfd_create("fuzz_datafile", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
        fuzz_fail("memfd: cannot write the input");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    table *in = load_file(path, format, NULL, err_in, sizeof(err_in));
    table *copy = NULL;
    datafile_sink sink = {.begin = copy_begin, .entry = copy_entry, .arg = &copy};
    if (datafile_read(path, format, &sink, err_copy, sizeof(err_copy)) < 0) {
        table_free(copy);
        copy = NULL;
    } else if (copy == NULL) {
        copy = table_new(0, 0);
    }
    if ((in == NULL) != (copy == NULL))
        fuzz_fail("in place: %s; copied: %s", in ? "loaded" : err_in, copy ? "loaded" : err_copy);
    if (in == NULL && strcmp(err_in, err_copy) != 0)
        fuzz_fail("in place: \"%s\"; copied: \"%s\"", err_in, err_copy);
    if (in != NULL)
        same_entries(copy, in);
    table_free(in);
    table_free(copy);
    close(fd);
    return 0;
}
