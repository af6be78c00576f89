/*
 * file_bytes.h: a data file's bytes read into memory, for datafile.c:
 * all at once, or by a thread of their own while the caller parses the
 * lines already read (a big TSV file then loads in about the time of the
 * slower of the two, not of both).
 *
 * Not mapped: a page of a mapping whose file is truncated meanwhile (an
 * editor saving in place, cp over the file during a reload) faults with
 * SIGBUS, which would end the server. A copy cannot fault; what the copy
 * cannot tell by itself, that the file changed while it was being read,
 * is checked here: a file that ends early (truncated), goes on past its
 * size (grew) or whose size or modification time differ at the end is
 * refused ("changed while it was read"), so that a load never takes half
 * of one version and half of another. A change the clock cannot see (the
 * same size, written within one tick of the file's last modification)
 * goes unnoticed.
 */
#ifndef EVKV_FILE_BYTES_H
#define EVKV_FILE_BYTES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>

#include "datafile.h"

typedef struct file_bytes {
    char *data;   /* NULL when the file is empty; else mapped, of len + room bytes */
    size_t len;   /* the file's bytes */
    size_t room;  /* mapped after them, for a sink that keeps them (begin_in) */
    int handed;   /* the sink has them (begin_in): not freed here */
    size_t count; /* the entries it seems to hold, counted as it was read (not by a thread) */
} file_bytes;

/* The entries [p, end) of a file that starts at data seems to hold: its
 * lines (TSV), or its strings followed by ':' (JSON). */
size_t file_bytes_count(datafile_format format, const char *data, const char *p, const char *end);

/* Unmaps fb's bytes unless the sink has them. */
void file_bytes_free(file_bytes *fb);

/* A read of one file into a file_bytes. */
typedef struct file_read {
    const char *path;
    datafile_format format;    /* what to count */
    const datafile_sink *sink; /* its progress callback is called after each block */
    file_bytes *fb;
    int fd;
    struct stat st;
    atomic_size_t got; /* bytes read so far */
    atomic_int state;  /* FILE_READING, FILE_READ or FILE_FAILED */
    int threaded;      /* read by .thread */
    pthread_t thread;
    pthread_mutex_t lock; /* with .more: a wait for bytes, or for the end */
    pthread_cond_t more;
    char err[4200]; /* the read's error */
} file_read;

enum { FILE_READING, FILE_READ, FILE_FAILED };

/* Opens path (a regular file) and maps room for its bytes in *fb, with
 * room for the sink after them when hand_over (see datafile_sink's
 * begin_in). Returns 0, or -1 with errbuf. */
int file_read_open(file_read *r, const char *path, datafile_format format, const datafile_sink *sink, int hand_over,
                   file_bytes *fb, char *errbuf, size_t errlen);
/* Reads the whole file, in this thread, and closes it. Returns 0, or -1
 * with errbuf. */
int file_read_all(file_read *r, char *errbuf, size_t errlen);
/* Starts the read in a thread of its own: 0, or -1 when none can start
 * (then read with file_read_all). */
int file_read_start(file_read *r);
/* The end of the whole lines read from p on: waits until the bytes read
 * from p hold a newline, or the file is read whole (its end). NULL when
 * the read failed. */
const char *file_read_lines(file_read *r, const char *p);
/* Faults in the pages the read has yet to fill from offset from on, while
 * it fills those before: a new page is zeroed by the kernel when first
 * written, which in a virtual machine can cost more than the copy. Gives
 * up where the read has got to (or failed). */
void file_read_prefault(file_read *r, size_t from);
/* Waits for the thread to finish the read and closes the file. Returns 0,
 * or -1 with the read's error in errbuf. */
int file_read_finish(file_read *r, char *errbuf, size_t errlen);

#endif
