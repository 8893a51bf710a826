/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-bus-forwarder.h"

typedef struct
{
  S2rBusForwardFunc func;
  GObject *target;
  GstMessage *msg;
  guint flags;
} Forwarded;

struct _S2rBusForwarder
{
  GMainContext *context;
  /* protects queue and scheduled; a leaf lock: nothing is called, posted
   * or attached while it is held */
  GMutex lock;
  GQueue queue;                 /* Forwarded */
  gboolean scheduled;           /* an idle source is attached, not yet run */
};

static void
forwarded_free (Forwarded * f)
{
  gst_message_unref (f->msg);
  g_object_unref (f->target);
  g_free (f);
}

static void
forwarder_clear (S2rBusForwarder * forwarder)
{
  /* left only if the idle source was destroyed unrun (its context went) */
  g_queue_clear_full (&forwarder->queue, (GDestroyNotify) forwarded_free);
  g_mutex_clear (&forwarder->lock);
  g_main_context_unref (forwarder->context);
}

S2rBusForwarder *
s2r_bus_forwarder_new (GMainContext * context)
{
  S2rBusForwarder *forwarder = g_atomic_rc_box_new0 (S2rBusForwarder);

  forwarder->context = g_main_context_ref (context);
  g_mutex_init (&forwarder->lock);
  g_queue_init (&forwarder->queue);
  return forwarder;
}

S2rBusForwarder *
s2r_bus_forwarder_ref (S2rBusForwarder * forwarder)
{
  return g_atomic_rc_box_acquire (forwarder);
}

void
s2r_bus_forwarder_unref (S2rBusForwarder * forwarder)
{
  g_atomic_rc_box_release_full (forwarder, (GDestroyNotify) forwarder_clear);
}

GMainContext *
s2r_bus_forwarder_get_context (S2rBusForwarder * forwarder)
{
  return forwarder->context;
}

/* On the context: everything queued until now, in the order posted */
static gboolean
dispatch_cb (gpointer user_data)
{
  S2rBusForwarder *forwarder = user_data;
  GQueue batch = G_QUEUE_INIT;
  Forwarded *f;

  g_mutex_lock (&forwarder->lock);
  batch = forwarder->queue;
  g_queue_init (&forwarder->queue);
  forwarder->scheduled = FALSE;
  g_mutex_unlock (&forwarder->lock);

  while ((f = g_queue_pop_head (&batch))) {
    f->func (f->target, f->msg, f->flags);
    forwarded_free (f);
  }
  return G_SOURCE_REMOVE;
}

/**
 * s2r_bus_forwarder_push:
 * @target: (transfer none): passed to @func; kept alive until then
 * @msg: (transfer full): the message
 *
 * Has @func handle @msg on the forwarder's context. Any thread; never
 * handled from here, even on the context's own thread: the pusher may be
 * inside a state change or a signal.
 */
void
s2r_bus_forwarder_push (S2rBusForwarder * forwarder, S2rBusForwardFunc func,
    GObject * target, GstMessage * msg, guint flags)
{
  Forwarded *f = g_new (Forwarded, 1);
  gboolean wake;

  f->func = func;
  f->target = g_object_ref (target);
  f->msg = msg;
  f->flags = flags;

  g_mutex_lock (&forwarder->lock);
  g_queue_push_tail (&forwarder->queue, f);
  wake = !forwarder->scheduled;
  forwarder->scheduled = TRUE;
  g_mutex_unlock (&forwarder->lock);

  if (wake) {
    GSource *idle = g_idle_source_new ();

    g_source_set_priority (idle, G_PRIORITY_DEFAULT);
    g_source_set_callback (idle, dispatch_cb,
        s2r_bus_forwarder_ref (forwarder),
        (GDestroyNotify) s2r_bus_forwarder_unref);
    g_source_attach (idle, forwarder->context);
    g_source_unref (idle);
  }
}
