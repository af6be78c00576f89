/*
 * file_bytes.c: a data file's bytes read into memory (see file_bytes.h).
 */
#include "file_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* read() in blocks of this size, so that a load can be given up (the
 * sink's progress callback) without waiting for a whole big file. */
#define READ_BLOCK ((size_t)1 << 20)

/* The buffer is an anonymous mapping of its own, not malloc's: glibc
 * raises its mmap threshold to the size of the largest block freed (up to
 * 32 MiB), after which a buffer that size comes from, and goes back to, the
 * heap of the thread reading (each reload's loader thread is a new one)
 * and stays resident. munmap gives it back to the system at once. The room
 * after the file's bytes is only address space until the sink writes
 * there. Not asked for huge pages: where memory is fragmented, the kernel
 * compacts it on each fault, and a load spent more time there than in
 * parsing. */
static char *file_bytes_alloc(size_t size, size_t room)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (room ? MAP_NORESERVE : 0);
    void *p = mmap(NULL, size + room, PROT_READ | PROT_WRITE, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void file_bytes_free(file_bytes *fb)
{
    if (fb->data != NULL && !fb->handed)
        munmap(fb->data, fb->len + fb->room);
    memset(fb, 0, sizeof(*fb));
}

/* Room for the entries that do not fit over the bytes already read: a
 * typical file's entries need a few percent more than its bytes (a TSV
 * line's value gains its quotes and a header of about 3 bytes in place of
 * TAB and newline). Past it, the load starts over and copies. */
static size_t room_for(size_t size)
{
    return size / 4 + ((size_t)1 << 20);
}

/* Estimates the number of a JSON file's entries in [p, end) of a file
 * that starts at data: a key is a string followed by ':'. */
static size_t count_keys(const char *data, const char *p, const char *end)
{
    size_t n = 0;
    while (p < end && (p = memchr(p, ':', (size_t)(end - p))) != NULL) {
        const char *q = p - 1;
        while (q > data && q > p - 8 && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q--;
        n += q >= data && *q == '"';
        p++;
    }
    return n;
}

/* The number of newlines in [p, end). */
static size_t count_lines(const char *p, const char *end)
{
    size_t n = 0;
    for (; p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        n++;
    return n;
}

size_t file_bytes_count(datafile_format format, const char *data, const char *p, const char *end)
{
    return format == DATAFILE_TSV ? count_lines(p, end) : count_keys(data, p, end);
}

/* What a file that is not a regular one is, for an error message. */
static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "another kind of file";
}

/* read(), again on EINTR. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

int file_read_open(file_read *r, const char *path, datafile_format format, const datafile_sink *sink, int hand_over,
                   file_bytes *fb, char *errbuf, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    memset(fb, 0, sizeof(*fb));
    r->path = path;
    r->format = format;
    r->sink = sink;
    r->fb = fb;
    atomic_init(&r->got, 0);
    atomic_init(&r->state, FILE_READING);
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer, which may
     * never come (and would wedge a reload, or --check-config under
     * systemctl reload). Opened without waiting, it is refused below. On a
     * regular file the flag changes nothing. */
    r->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (r->fd < 0 || fstat(r->fd, &r->st) != 0) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(r->st.st_mode)) {
        snprintf(errbuf, errlen, "%s: not a regular file (%s)", path, file_kind(r->st.st_mode));
        goto fail;
    }
    if ((uintmax_t)r->st.st_size > SIZE_MAX / 4) {
        snprintf(errbuf, errlen, "%s: too large", path);
        goto fail;
    }
    size_t size = (size_t)r->st.st_size, room = hand_over ? room_for(size) : 0;
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (size > 0 && (fb->data = file_bytes_alloc(size, room)) == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        goto fail;
    }
    fb->len = size;
    fb->room = size > 0 ? room : 0;
    return 0;
fail:
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    return -1;
}

/* The read, block by block, then the checks that the file did not change;
 * the outcome goes to r->state (and r->err). Closes the file. */
static void read_blocks(file_read *r)
{
    file_bytes *fb = r->fb;
    size_t size = fb->len, done = 0;
    struct stat after;
    char probe;
    ssize_t n;

    while (done < size) {
        n = read_some(r->fd, fb->data + done, size - done < READ_BLOCK ? size - done : READ_BLOCK);
        if (n < 0)
            goto sys_error;
        if (n == 0) {
            snprintf(r->err, sizeof(r->err), "%s: changed while it was read (it ended after %zu of its %zu bytes)",
                     r->path, done, size);
            goto fail;
        }
        /* The entries are counted (the index is sized once for them) while
         * the block is in the cache. */
        const char *block = fb->data + done;
        if (!r->threaded)
            fb->count += file_bytes_count(r->format, fb->data, block, block + n);
        done += (size_t)n;
        atomic_store_explicit(&r->got, done, memory_order_release);
        if (r->threaded) {
            pthread_mutex_lock(&r->lock);
            pthread_cond_broadcast(&r->more);
            pthread_mutex_unlock(&r->lock);
        }
        if (r->sink->progress && r->sink->progress(r->sink->arg, done, size) != 0) {
            snprintf(r->err, sizeof(r->err), "%s: load cancelled", r->path);
            goto fail;
        }
    }
    if ((n = read_some(r->fd, &probe, 1)) < 0 || fstat(r->fd, &after) != 0)
        goto sys_error;
    if (n > 0) {
        snprintf(r->err, sizeof(r->err), "%s: changed while it was read (it grew past its %zu bytes)", r->path, size);
        goto fail;
    }
    if (after.st_size != r->st.st_size) {
        snprintf(r->err, sizeof(r->err), "%s: changed while it was read (its size went from %zu to %jd bytes)", r->path,
                 size, (intmax_t)after.st_size);
        goto fail;
    }
    if (after.st_mtim.tv_sec != r->st.st_mtim.tv_sec || after.st_mtim.tv_nsec != r->st.st_mtim.tv_nsec) {
        snprintf(r->err, sizeof(r->err), "%s: changed while it was read (written to meanwhile)", r->path);
        goto fail;
    }
    close(r->fd);
    r->fd = -1;
    atomic_store_explicit(&r->state, FILE_READ, memory_order_release);
    return;
sys_error:
    snprintf(r->err, sizeof(r->err), "%s: %s", r->path, strerror(errno));
fail:
    close(r->fd);
    r->fd = -1;
    atomic_store_explicit(&r->state, FILE_FAILED, memory_order_release);
}

int file_read_all(file_read *r, char *errbuf, size_t errlen)
{
    read_blocks(r);
    if (atomic_load(&r->state) == FILE_READ)
        return 0;
    snprintf(errbuf, errlen, "%s", r->err);
    return -1;
}

static void *read_thread(void *arg)
{
    file_read *r = arg;
    read_blocks(r);
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->more);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int file_read_start(file_read *r)
{
    if (pthread_mutex_init(&r->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&r->more, NULL) != 0) {
        pthread_mutex_destroy(&r->lock);
        return -1;
    }
    r->threaded = 1;
    if (pthread_create(&r->thread, NULL, read_thread, r) != 0) {
        r->threaded = 0;
        pthread_cond_destroy(&r->more);
        pthread_mutex_destroy(&r->lock);
        return -1;
    }
    return 0;
}

/* The end of the whole lines in [p, p + got), or p when they hold none. */
static const char *lines_end(const char *p, const char *got)
{
    const char *q = got;
    while (q > p && q[-1] != '\n')
        q--;
    return q;
}

const char *file_read_lines(file_read *r, const char *p)
{
    const char *data = r->fb->data;
    for (;;) {
        int state = atomic_load_explicit(&r->state, memory_order_acquire);
        const char *got = data + atomic_load_explicit(&r->got, memory_order_acquire);
        if (state == FILE_FAILED)
            return NULL;
        if (state == FILE_READ)
            return data + r->fb->len;
        const char *end = lines_end(p, got);
        if (end > p)
            return end;
        pthread_mutex_lock(&r->lock);
        while (atomic_load(&r->state) == FILE_READING && data + atomic_load(&r->got) == got)
            pthread_cond_wait(&r->more, &r->lock);
        pthread_mutex_unlock(&r->lock);
    }
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older C libraries do not name it */
#endif

/* The bytes faulted in at a time. */
#define PREFAULT_BLOCK ((size_t)8 << 20)

void file_read_prefault(file_read *r, size_t from)
{
    size_t len = r->fb->len, at = (from + 4095) & ~(size_t)4095;
    while (at < len && atomic_load_explicit(&r->state, memory_order_relaxed) == FILE_READING &&
           atomic_load_explicit(&r->got, memory_order_relaxed) < at) {
        size_t n = len - at < PREFAULT_BLOCK ? len - at : PREFAULT_BLOCK;
        if (madvise(r->fb->data + at, n, MADV_POPULATE_WRITE) != 0)
            return; /* a kernel before 5.14 */
        at += n;
    }
}

int file_read_finish(file_read *r, char *errbuf, size_t errlen)
{
    if (!r->threaded)
        return atomic_load(&r->state) == FILE_READ ? 0 : -1;
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->more);
    pthread_mutex_destroy(&r->lock);
    r->threaded = 0;
    if (atomic_load(&r->state) == FILE_READ)
        return 0;
    snprintf(errbuf, errlen, "%s", r->err);
    return -1;
}
