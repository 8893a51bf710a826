/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The shared media loop: a thread per core, each with an epoll set and a
 * fixed tick. A call's sockets belong to the least loaded thread. On each
 * tick the thread asks epoll (without waiting) which sockets have data and
 * lets their entries read it all, then gives every entry its tick (RTCP,
 * silence, timeouts). At 20 ms a thread wakes 50 times a second whatever
 * the number of calls, instead of 50 times a second per call.
 *
 * An entry's callbacks run under its recursive lock; remove() takes that
 * lock, so when it returns no callback of the entry runs any more. The
 * loop's own reference to an entry is dropped a tick later, since the
 * current tick may still hold it in its epoll batch. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "gstsipmedialoop.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_media_loop_debug);
#define GST_CAT_DEFAULT gst_sip_media_loop_debug

#define DEFAULT_TICK_MS 20
#define DEFAULT_NICE 5
#define MAX_THREADS 8
#define MAX_EVENTS 256
/* the load is measured over windows this long */
#define LOAD_WINDOW (GST_SECOND)

typedef struct _MediaThread MediaThread;

typedef struct
{
  GstSipMediaEntry *entry;
  gint fd;
} Slot;

struct _GstSipMediaEntry
{
  gint refcount;                /* atomic */
  GRecMutex lock;               /* held while a callback runs */
  gboolean active;              /* under lock */
  Slot slots[2];
  GstSipMediaReadFunc read_func;
  GstSipMediaTickFunc tick_func;
  gpointer user_data;
  MediaThread *thread;
};

struct _MediaThread
{
  GThread *thread;
  gint epfd;
  /* Lock order: an entry's lock, then this lock, never the other way
   * (the whole process's: docs/sipsrc-contract.md, "Threads and locks").
   * Protects entries, graveyard, load and the last window's figures. */
  GMutex lock;
  GCond cond;
  GPtrArray *entries;
  GPtrArray *graveyard;
  guint load;
  gdouble last_busy;            /* share of the last window spent working */
  gint64 last_late_ns;          /* how late its ticks started, on average */

  /* the window being measured: the thread's own */
  gint64 window_start_ns;
  gint64 window_busy_ns;
  gint64 window_late_ns;        /* summed over its ticks */
  guint window_ticks;
};

static MediaThread threads[MAX_THREADS];
static guint n_threads;
static gint64 tick_ns;
static gint media_nice;

static void
entry_unref (GstSipMediaEntry * entry)
{
  if (g_atomic_int_dec_and_test (&entry->refcount)) {
    g_rec_mutex_clear (&entry->lock);
    g_free (entry);
  }
}

static GstSipMediaEntry *
entry_ref (GstSipMediaEntry * entry)
{
  g_atomic_int_inc (&entry->refcount);
  return entry;
}

static void
sleep_until (gint64 deadline_ns)
{
  struct timespec ts;

  ts.tv_sec = deadline_ns / G_GINT64_CONSTANT (1000000000);
  ts.tv_nsec = deadline_ns % G_GINT64_CONSTANT (1000000000);
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR);
}

static gint64
monotonic_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* One tick's work (from @start to @end) counts into the current window;
 * a complete window becomes the thread's published figures */
static void
measure_window (MediaThread * t, gint64 start, gint64 end)
{
  if (!t->window_start_ns)
    t->window_start_ns = start;
  t->window_busy_ns += end - start;
  if (end - t->window_start_ns < (gint64) LOAD_WINDOW)
    return;

  g_mutex_lock (&t->lock);
  t->last_busy = (gdouble) t->window_busy_ns / (end - t->window_start_ns);
  /* on average: one late wake-up is no trend, a loop that cannot keep up
   * is late on every tick */
  t->last_late_ns = t->window_late_ns / MAX (1, t->window_ticks);
  g_mutex_unlock (&t->lock);
  t->window_start_ns = end;
  t->window_busy_ns = 0;
  t->window_late_ns = 0;
  t->window_ticks = 0;
}

static gpointer
media_thread_run (gpointer data)
{
  MediaThread *t = data;
  struct epoll_event events[MAX_EVENTS];
  gint64 next = monotonic_ns ();

  /* Media is throughput work: signalling and the control plane (SIP
   * thread, the application's main loop) go first when the cores are
   * busy, so that call set-up stays fast under load */
  {
    id_t tid = (id_t) syscall (SYS_gettid);
    gint base = getpriority (PRIO_PROCESS, tid);

    if (media_nice && setpriority (PRIO_PROCESS, tid,
            CLAMP (base + media_nice, -20, 19)) != 0)
      GST_WARNING ("could not change the media threads' priority");
  }

  for (;;) {
    GPtrArray *snapshot, *dead;
    gint64 now;
    gint n, i;
    guint j;

    g_mutex_lock (&t->lock);
    while (t->entries->len == 0 && t->graveyard->len == 0) {
      g_cond_wait (&t->cond, &t->lock);
      next = monotonic_ns ();
    }
    dead = t->graveyard;
    t->graveyard = g_ptr_array_new ();
    snapshot = g_ptr_array_new_full (t->entries->len, NULL);
    for (j = 0; j < t->entries->len; j++)
      g_ptr_array_add (snapshot, entry_ref (g_ptr_array_index (t->entries,
                  j)));
    g_mutex_unlock (&t->lock);

    /* no event of the previous tick can point at these any more */
    g_ptr_array_foreach (dead, (GFunc) entry_unref, NULL);
    g_ptr_array_free (dead, TRUE);

    next += tick_ns;
    now = monotonic_ns ();
    /* a tick that starts late delays every call's packets: admission
     * control reads it (gst_sip_media_loop_get_load) */
    t->window_late_ns += MAX (0, now - next);
    t->window_ticks++;
    if (next < now - 10 * tick_ns)
      next = now;               /* we fell far behind: do not race */
    else if (next > now)
      sleep_until (next);
    now = monotonic_ns ();

    n = epoll_wait (t->epfd, events, MAX_EVENTS, 0);
    for (i = 0; i < n; i++) {
      Slot *slot = events[i].data.ptr;
      GstSipMediaEntry *entry = slot->entry;

      g_rec_mutex_lock (&entry->lock);
      if (entry->active)
        entry->read_func (entry->user_data, slot->fd, now);
      g_rec_mutex_unlock (&entry->lock);
    }

    for (j = 0; j < snapshot->len; j++) {
      GstSipMediaEntry *entry = g_ptr_array_index (snapshot, j);

      g_rec_mutex_lock (&entry->lock);
      if (entry->active && entry->tick_func)
        entry->tick_func (entry->user_data, now);
      g_rec_mutex_unlock (&entry->lock);
      entry_unref (entry);
    }
    g_ptr_array_free (snapshot, TRUE);
    measure_window (t, now, monotonic_ns ());
  }

  return NULL;
}

/* set once the threads exist */
static gsize loop_started = 0;

static void
media_loop_init (void)
{
  if (g_once_init_enter (&loop_started)) {
    const gchar *env;
    guint i;

    GST_DEBUG_CATEGORY_INIT (gst_sip_media_loop_debug, "sipmedialoop", 0,
        "Shared RTP receive threads of sipsrc");

    n_threads = CLAMP (g_get_num_processors (), 1, MAX_THREADS);
    env = g_getenv ("SIP2RTMP_MEDIA_THREADS");
    if (env && atoi (env) > 0)
      n_threads = CLAMP ((guint) atoi (env), 1, MAX_THREADS);
    media_nice = DEFAULT_NICE;
    /* relative to the process's own niceness */
    env = g_getenv ("SIP2RTMP_MEDIA_NICE");
    if (env)
      media_nice = CLAMP (atoi (env), -20, 19);
    tick_ns = DEFAULT_TICK_MS * GST_MSECOND;
    env = g_getenv ("SIP2RTMP_MEDIA_TICK_MS");
    if (env && atoi (env) > 0)
      tick_ns = CLAMP (atoi (env), 1, 200) * GST_MSECOND;

    for (i = 0; i < n_threads; i++) {
      MediaThread *t = &threads[i];
      gchar *name = g_strdup_printf ("sipmedia%u", i);

      t->epfd = epoll_create1 (EPOLL_CLOEXEC);
      g_mutex_init (&t->lock);
      g_cond_init (&t->cond);
      t->entries = g_ptr_array_new ();
      t->graveyard = g_ptr_array_new ();
      t->thread = g_thread_new (name, media_thread_run, t);
      g_free (name);
    }
    GST_INFO ("%u media threads, tick %" G_GINT64_FORMAT " ms", n_threads,
        tick_ns / GST_MSECOND);
    g_once_init_leave (&loop_started, 1);
  }
}

/* The latency the loop adds: packets wait up to a tick */
GstClockTime
gst_sip_media_loop_tick (void)
{
  media_loop_init ();
  return (GstClockTime) tick_ns;
}

GstSipMediaEntry *
gst_sip_media_loop_add (gint fd1, gint fd2, GstSipMediaReadFunc read_func,
    GstSipMediaTickFunc tick_func, gpointer user_data)
{
  GstSipMediaEntry *entry;
  MediaThread *t = NULL;
  guint i;
  gint k;

  media_loop_init ();

  entry = g_new0 (GstSipMediaEntry, 1);
  entry->refcount = 1;          /* the caller's */
  g_rec_mutex_init (&entry->lock);
  entry->active = TRUE;
  entry->slots[0].entry = entry;
  entry->slots[0].fd = fd1;
  entry->slots[1].entry = entry;
  entry->slots[1].fd = fd2;
  entry->read_func = read_func;
  entry->tick_func = tick_func;
  entry->user_data = user_data;

  for (i = 0; i < n_threads; i++) {
    g_mutex_lock (&threads[i].lock);
    if (!t || threads[i].load < t->load)
      t = &threads[i];
    g_mutex_unlock (&threads[i].lock);
  }
  entry->thread = t;

  g_mutex_lock (&t->lock);
  t->load++;
  g_ptr_array_add (t->entries, entry_ref (entry));
  g_cond_signal (&t->cond);
  g_mutex_unlock (&t->lock);

  for (k = 0; k < 2; k++) {
    struct epoll_event ev;

    if (entry->slots[k].fd < 0)
      continue;
    memset (&ev, 0, sizeof (ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &entry->slots[k];
    if (epoll_ctl (t->epfd, EPOLL_CTL_ADD, entry->slots[k].fd, &ev) < 0)
      GST_ERROR ("epoll_ctl: %s", g_strerror (errno));
  }

  return entry;
}

void
gst_sip_media_loop_get_load (gdouble * busy, GstClockTime * late)
{
  gint64 max_late = 0;
  gdouble max_busy = 0;
  guint i;

  *busy = 0;
  *late = 0;
  /* no thread is started to answer this */
  if (!g_atomic_pointer_get (&loop_started))
    return;
  for (i = 0; i < n_threads; i++) {
    MediaThread *t = &threads[i];

    g_mutex_lock (&t->lock);
    /* an idle thread (waiting for entries) measures nothing */
    if (t->entries->len > 0) {
      max_busy = MAX (max_busy, t->last_busy);
      max_late = MAX (max_late, t->last_late_ns);
    }
    g_mutex_unlock (&t->lock);
  }
  *busy = max_busy;
  *late = (GstClockTime) max_late;
}

void
gst_sip_media_loop_remove (GstSipMediaEntry * entry)
{
  MediaThread *t = entry->thread;
  gint k;

  /* waits for a running callback of this entry to finish */
  g_rec_mutex_lock (&entry->lock);
  entry->active = FALSE;
  for (k = 0; k < 2; k++)
    if (entry->slots[k].fd >= 0)
      epoll_ctl (t->epfd, EPOLL_CTL_DEL, entry->slots[k].fd, NULL);
  g_rec_mutex_unlock (&entry->lock);

  g_mutex_lock (&t->lock);
  if (g_ptr_array_remove_fast (t->entries, entry)) {
    t->load--;
    g_ptr_array_add (t->graveyard, entry);      /* the loop's reference */
    g_cond_signal (&t->cond);
  }
  g_mutex_unlock (&t->lock);

  entry_unref (entry);          /* the caller's */
}

void
gst_sip_media_entry_lock (GstSipMediaEntry * entry)
{
  g_rec_mutex_lock (&entry->lock);
}

void
gst_sip_media_entry_unlock (GstSipMediaEntry * entry)
{
  g_rec_mutex_unlock (&entry->lock);
}
