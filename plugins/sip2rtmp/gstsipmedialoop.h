/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_MEDIA_LOOP_H__
#define __GST_SIP_MEDIA_LOOP_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* A few process-wide threads (one per core) receive the RTP of every call.
 * Each wakes once per tick, reads every socket that has data and runs the
 * entries' callbacks: per-call threads and per-packet wake-ups are gone.
 * Callbacks run on a loop thread, one at a time per entry. */
typedef struct _GstSipMediaEntry GstSipMediaEntry;

/* fd has data; now: monotonic ns at the start of this tick */
typedef void (*GstSipMediaReadFunc) (gpointer user_data, gint fd,
    gint64 now);
/* once per tick */
typedef void (*GstSipMediaTickFunc) (gpointer user_data, gint64 now);

GstSipMediaEntry *gst_sip_media_loop_add (gint fd1, gint fd2,
    GstSipMediaReadFunc read_func, GstSipMediaTickFunc tick_func,
    gpointer user_data);
void gst_sip_media_loop_remove (GstSipMediaEntry * entry);

/* Serialise work from another thread with the entry's callbacks */
void gst_sip_media_entry_lock (GstSipMediaEntry * entry);
void gst_sip_media_entry_unlock (GstSipMediaEntry * entry);

GstClockTime gst_sip_media_loop_tick (void);

/* How loaded the loop is, over its last complete second: the busiest
 * thread's share of that second spent working (0..1), and how late its
 * ticks started on average (the most of any thread). Zeros before the
 * loop has run. */
void gst_sip_media_loop_get_load (gdouble * busy, GstClockTime * late);

G_END_DECLS

#endif
