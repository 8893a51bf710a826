/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-branch.h"
#include "s2r-debug.h"
#include "s2r-error.h"

S2R_DEBUG_CATEGORY ("s2r-branch", "sip2rtmp media branches");
#define GST_CAT_DEFAULT s2r_debug_category ()

/* the Branch of a branch bin */
static GQuark branch_quark (void);
G_DEFINE_QUARK (s2r-branch, branch);

/* The encoding-name of fixed caps, upper case, or NULL */
char *
s2r_caps_get_encoding (GstCaps * caps)
{
  const GstStructure *s;
  const char *encoding;

  if (caps == NULL || gst_caps_get_size (caps) != 1)
    return NULL;
  s = gst_caps_get_structure (caps, 0);
  encoding = gst_structure_get_string (s, "encoding-name");
  return encoding ? g_ascii_strup (encoding, -1) : NULL;
}


/* A call's branch for one media pad of sipsrc: the bin "PAD-branch" holds
 * a depayloader part (chosen by the pad's encoding) and a chain part (by
 * its media), linked, with "sink" and "src" ghost pads at the ends. The
 * peer may change the codec during the call (re-INVITE, or a 200 after a
 * 183 with another codec): sipsrc then pushes new caps, and the branch
 * replaces its depayloader part there, in the streaming thread, between
 * the last packet of the old codec and the first of the new. The chain and
 * its encoder go on untouched, so the output stays one stream. */
typedef struct
{
  GPtrArray *elements;          /* upstream first */
  GstPad *sink;                 /* the first's */
  GstPad *src;                  /* the last's */
} Part;

typedef struct
{
  const S2rTemplate *tmpl;      /* outlives the calls */
  char *media;
  char *encoding;               /* the depay part's; streaming thread */
  Part depay;
  GstPad *chain_sink;
} Branch;

static void
part_clear (Part * part)
{
  g_clear_pointer (&part->elements, g_ptr_array_unref);
  gst_clear_object (&part->sink);
  gst_clear_object (&part->src);
}

/* A part's elements, in @bin, linked: from the description's recipe (no
 * pad hop more than the elements' own), else parsed into a bin of their
 * own with ghost pads */
static gboolean
part_add (const S2rTemplate * tmpl, const char *description, GstBin * bin,
    Part * part, GError ** error)
{
  const S2rRecipe *r = s2r_template_get_recipe (tmpl, description);
  GstElement *first, *last;

  part->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  if (r) {
    s2r_recipe_add_to (r, bin, part->elements);
  } else {
    GstElement *sub = gst_parse_bin_from_description_full (description, TRUE,
        NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);

    if (sub == NULL)
      return FALSE;
    gst_bin_add (bin, sub);
    g_ptr_array_add (part->elements, gst_object_ref (sub));
  }
  first = g_ptr_array_index (part->elements, 0);
  last = g_ptr_array_index (part->elements, part->elements->len - 1);
  part->sink = gst_element_get_static_pad (first, "sink");
  part->src = gst_element_get_static_pad (last, "src");
  if (part->sink == NULL || part->src == NULL) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "template %s: '%s' does not start with a sink pad and end with a "
        "source pad", s2r_template_get_name (tmpl), description);
    return FALSE;
  }
  return TRUE;
}

static void
part_remove (Part * part, GstBin * bin)
{
  for (guint i = 0; i < part->elements->len; i++) {
    GstElement *e = g_ptr_array_index (part->elements, i);

    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (bin, e);
  }
  part_clear (part);
}

static void
branch_free (Branch * b)
{
  g_free (b->media);
  g_free (b->encoding);
  part_clear (&b->depay);
  gst_clear_object (&b->chain_sink);
  g_free (b);
}

/* Streaming thread, holding the branch's sink stream lock: no data is in
 * the old part (it has no queue), so it can go at once */
static gboolean
replace_depay (GstElement * branch, Branch * b, const char *encoding)
{
  const char *description = s2r_template_get_depayloader (b->tmpl,
      encoding);
  g_autoptr (GstPad) ghost = gst_element_get_static_pad (branch, "sink");
  g_autoptr (GError) err = NULL;
  Part depay = { 0 };

  if (description == NULL || !part_add (b->tmpl, description,
          GST_BIN (branch), &depay, &err)) {
    GError *e = g_error_new (S2R_ERROR, S2R_ERROR_INTERNAL,
        "the peer changed the %s codec from %s to %s: %s", b->media,
        b->encoding, encoding, err ? err->message :
        "no depayloader for it in the template");

    if (depay.elements)
      part_remove (&depay, GST_BIN (branch));
    gst_element_post_message (branch, gst_message_new_error (GST_OBJECT
            (branch), e, NULL));
    g_error_free (e);
    return FALSE;
  }
  GST_INFO_OBJECT (branch, "%s codec %s -> %s: depayloader replaced",
      b->media, b->encoding, encoding);

  part_remove (&b->depay, GST_BIN (branch));
  b->depay = depay;
  gst_pad_link (b->depay.src, b->chain_sink);
  for (guint i = 0; i < b->depay.elements->len; i++)
    gst_element_sync_state_with_parent (g_ptr_array_index (b->depay.elements,
            i));
  /* the ghost's internal pad sends its sticky events (stream-start, the
   * new caps, the segment) to the new part before the next packet */
  gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), b->depay.sink);

  g_free (b->encoding);
  b->encoding = g_strdup (encoding);
  gst_element_post_message (branch, gst_message_new_element (GST_OBJECT
          (branch), gst_structure_new (S2R_CODEC_MESSAGE, "media",
              G_TYPE_STRING, b->media, "encoding", G_TYPE_STRING, encoding,
              NULL)));
  return TRUE;
}

/* The encoding of @caps if it is not the depay part's, else NULL */
static char *
other_encoding (const Branch * b, GstCaps * caps)
{
  char *encoding = s2r_caps_get_encoding (caps);

  if (g_strcmp0 (encoding, b->encoding) == 0)
    g_clear_pointer (&encoding, g_free);
  return encoding;
}

static gboolean
branch_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  Branch *b = g_object_get_qdata (G_OBJECT (parent), branch_quark ());
  GstCaps *caps;
  g_autofree char *encoding = NULL;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    gst_event_parse_caps (event, &caps);
    encoding = other_encoding (b, caps);
    if (encoding && !replace_depay (GST_ELEMENT (parent), b, encoding)) {
      gst_event_unref (event);
      return FALSE;
    }
  }
  return gst_pad_event_default (pad, parent, event);
}

/* Another codec than the depay part's is taken when the template has a
 * depayloader for it: the part is replaced when its caps come */
static gboolean
branch_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  Branch *b = g_object_get_qdata (G_OBJECT (parent), branch_quark ());
  GstCaps *caps;
  g_autofree char *encoding = NULL;

  if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
    gst_query_parse_accept_caps (query, &caps);
    encoding = other_encoding (b, caps);
    if (encoding) {
      const char *media = gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "media");

      gst_query_set_accept_caps_result (query, g_strcmp0 (media, b->media) == 0
          && s2r_template_get_depayloader (b->tmpl, encoding) != NULL);
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

GstElement *
s2r_branch_new (const S2rTemplate * tmpl, const char *pad_name, const char *media,
    const char *encoding, GError ** error)
{
  const char *chain_description = s2r_template_get_chain (tmpl, media);
  const char *depay_description = s2r_template_get_depayloader (tmpl,
      encoding);
  g_autofree char *name = g_strdup_printf ("%s-branch", pad_name);
  g_autoptr (GError) err = NULL;
  GstElement *branch;
  Part chain = { 0 };
  GstPad *ghost;
  Branch *b;

  if (depay_description == NULL) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "pad %s: no depayloader for %s in template %s", pad_name, encoding,
        s2r_template_get_name (tmpl));
    return NULL;
  }
  branch = gst_bin_new (name);
  b = g_new0 (Branch, 1);
  b->tmpl = tmpl;
  b->media = g_strdup (media);
  b->encoding = g_strdup (encoding);
  g_object_set_qdata_full (G_OBJECT (branch), branch_quark (), b,
      (GDestroyNotify) branch_free);
  if (!part_add (tmpl, depay_description, GST_BIN (branch), &b->depay, &err)
      || !part_add (tmpl, chain_description, GST_BIN (branch), &chain, &err)) {
    part_clear (&chain);
    gst_object_unref (gst_object_ref_sink (branch));
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL, "pad %s: %s",
        pad_name, err->message);
    return NULL;
  }
  gst_pad_link (b->depay.src, chain.sink);
  b->chain_sink = gst_object_ref (chain.sink);

  ghost = gst_ghost_pad_new ("sink", b->depay.sink);
  gst_pad_set_event_function (ghost, branch_sink_event);
  gst_pad_set_query_function (ghost, branch_sink_query);
  gst_element_add_pad (branch, ghost);
  gst_element_add_pad (branch, gst_ghost_pad_new ("src", chain.src));
  part_clear (&chain);
  return branch;
}
