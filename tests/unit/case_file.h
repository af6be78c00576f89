/*
 * case_file.h: test cases read from a text file at run time
 * (resp-cases.txt, resp-sessions.txt).
 *
 * A case is a name ("= name"), then lines "< bytes" joined into its input
 * and lines "> bytes" joined into its expected output; other lines (such as
 * "# comments") are skipped. Bytes are written with the escapes \r \n \t
 * \v \f \a \b \0 \\ and \xHH.
 */
#ifndef EVKV_TEST_CASE_FILE_H
#define EVKV_TEST_CASE_FILE_H

#include <stddef.h>

#include "buf.h"

/* One case of a case file, its bytes unescaped. */
typedef struct test_case {
    char name[128];
    proto_buf in, out;
} test_case;

/* Reads the cases of the file at path into *cases (fails the test if it
 * cannot, or holds none); returns their number. */
size_t case_file_load(const char *path, test_case **cases);

void case_file_free(test_case *cases, size_t n);

#endif
