/*
 * notify.h: telling systemd how the service is doing (notify.c).
 */
#ifndef EVKV_NOTIFY_H
#define EVKV_NOTIFY_H

/* Tells systemd the service's state ("READY=1", "RELOADING=1", ...) when
 * it runs us as a Type=notify service (NOTIFY_SOCKET is set): the sd_notify
 * datagram protocol, written by hand. RELOADING=1 gets the MONOTONIC_USEC
 * that systemd asks for. Does nothing otherwise. */
void systemd_notify(const char *state);

#endif
