/*
 * client_tls.h: what evkv_client.c asks of client_tls.c: a connection's
 * TLS, once its TCP connect is done. Internal to the client library; the
 * programs use evkv_client.h's evkv_client_tls_setup.
 */
#ifndef EVKV_CLIENT_TLS_H
#define EVKV_CLIENT_TLS_H

#include <stddef.h>

#include "evkv_client.h"

/* Whether evkv_client_tls_setup has run: TCP connections speak TLS. */
int client_tls_enabled(void);
/* Gives c (connected to host) its SSL. Returns 0, or -1 with c->err. */
int client_tls_start(evkv_client *c, const char *host);
/* One step of c's handshake: 1 when done, POLLIN or POLLOUT for what it
 * waits for, or -1 with c->err. */
int client_tls_handshake_step(evkv_client *c);
/* recv(2) and send(2) over c's TLS: a count, 0 at the end of input, or -1
 * with errno (EAGAIN, with c->tls_want set when TLS waits for the other
 * direction; EPROTO with c->err). */
long client_tls_read(evkv_client *c, void *buf, size_t len);
long client_tls_write(evkv_client *c, const void *buf, size_t len);
/* Sends close_notify if the socket takes it now, and frees c's SSL. */
void client_tls_close(evkv_client *c);

#endif
