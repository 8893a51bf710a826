/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * S2rBusForwarder:
 *
 * Brings the bus messages of many pipelines to one GMainContext (the call
 * manager's): a pipeline's sync handler, on whatever thread posts, pushes
 * the messages it wants handled, each with its handler, and one idle source
 * at a time on that context handles everything queued. No bus watch per
 * pipeline (a GSource polled on every loop iteration), and the messages
 * nobody reads are dropped where they are posted.
 *
 * Thread-safe: push from any thread; handlers run on the context only.
 */
typedef struct _S2rBusForwarder S2rBusForwarder;

/**
 * S2rBusForwardFunc:
 * @target: the object given to s2r_bus_forwarder_push()
 * @msg: the message
 * @flags: what the pusher found out where the message was posted
 *
 * Runs on the forwarder's context.
 */
typedef void (*S2rBusForwardFunc) (GObject * target, GstMessage * msg,
    guint flags);

S2rBusForwarder *s2r_bus_forwarder_new (GMainContext * context);
S2rBusForwarder *s2r_bus_forwarder_ref (S2rBusForwarder * forwarder);
void s2r_bus_forwarder_unref (S2rBusForwarder * forwarder);
GMainContext *s2r_bus_forwarder_get_context (S2rBusForwarder * forwarder);
void s2r_bus_forwarder_push (S2rBusForwarder * forwarder,
    S2rBusForwardFunc func, GObject * target, GstMessage * msg, guint flags);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rBusForwarder, s2r_bus_forwarder_unref);

G_END_DECLS
