/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-pipeline.h"
#include "s2r-sip-listen.h"
#include "s2r-error.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (s2r_pipeline_debug);
#define GST_CAT_DEFAULT s2r_pipeline_debug

#define SIP_NAME "sip"
#define SINK_BIN_NAME "sink"
#define MUX_NAME "mux"
#define RTMP_NAME "rtmp"
#define RECORDER_NAME "recorder"
#define RECORDER_MUX_NAME "recorder-mux"
/* what the recorder may hold back before it drops (ns): a slow disk loses
 * recorded media, never live media */
#define RECORDER_QUEUE_TIME (2 * GST_SECOND)

typedef struct _Recipe Recipe;

struct _S2rTemplate
{
  char *name;
  char *sink;
  char *audio;
  char *video;
  /* encoding-name (upper case) -> depayloader description */
  GHashTable *depayloaders;
  /* parsed once: the sink part, and each depayloader's and media chain's
   * description -> its Recipe */
  Recipe *sink_recipe;
  GHashTable *part_recipes;
};

/* A linear chain parsed once, kept as a recipe: each call then creates the
 * elements from their factories, sets the properties the description gave
 * them and links them, without running gst_parse again. A description that
 * is not a plain chain (bins, request or sometimes pads) has no recipe and
 * is parsed per call. */
typedef struct
{
  GstElementFactory *factory;
  char *name;                   /* NULL: a unique name of GStreamer's */
  GArray *names;                /* const char * (interned) */
  GArray *values;               /* GValue */
} ElementRecipe;

struct _Recipe
{
  GPtrArray *elements;          /* ElementRecipe, upstream first */
};

static void
element_recipe_free (ElementRecipe * e)
{
  gst_object_unref (e->factory);
  g_free (e->name);
  g_array_unref (e->names);
  g_array_unref (e->values);
  g_free (e);
}

static void
recipe_free (Recipe * r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->elements);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recipe, recipe_free);

static GstPad *
only_pad (GstElement * element, GstPadDirection direction)
{
  GList *pads = direction == GST_PAD_SRC ? element->srcpads : element->sinkpads;
  guint16 n = direction == GST_PAD_SRC ? element->numsrcpads :
      element->numsinkpads;

  return n == 1 ? pads->data : NULL;
}

/* What the description set: the properties that differ from a fresh
 * element's */
static ElementRecipe *
element_recipe_new (GstElement * element, gboolean keep_name)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  g_autoptr (GstElement) fresh = NULL;
  ElementRecipe *e;
  GParamSpec **specs;
  guint n;

  fresh = gst_object_ref_sink (gst_element_factory_create (factory, NULL));
  e = g_new0 (ElementRecipe, 1);
  e->factory = gst_object_ref (factory);
  e->name = keep_name ? gst_element_get_name (element) : NULL;
  e->names = g_array_new (FALSE, FALSE, sizeof (const char *));
  e->values = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (e->values, (GDestroyNotify) g_value_unset);

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);
  for (guint i = 0; i < n; i++) {
    GParamSpec *spec = specs[i];
    GValue now = G_VALUE_INIT, orig = G_VALUE_INIT;

    if ((spec->flags & G_PARAM_READWRITE) != G_PARAM_READWRITE ||
        (spec->flags & (G_PARAM_CONSTRUCT_ONLY | G_PARAM_DEPRECATED)) ||
        spec->owner_type == GST_TYPE_OBJECT)
      continue;
    g_value_init (&now, spec->value_type);
    g_value_init (&orig, spec->value_type);
    g_object_get_property (G_OBJECT (element), spec->name, &now);
    g_object_get_property (G_OBJECT (fresh), spec->name, &orig);
    if (g_param_values_cmp (spec, &now, &orig) != 0) {
      const char *name = g_intern_string (spec->name);

      g_array_append_val (e->names, name);
      g_array_append_val (e->values, now);
    } else {
      g_value_unset (&now);
    }
    g_value_unset (&orig);
  }
  g_free (specs);
  return e;
}

static Recipe *
recipe_new (const char *description, gboolean keep_names)
{
  g_autoptr (GstElement) bin = gst_parse_bin_from_description_full
      (description, FALSE, NULL, GST_PARSE_FLAG_FATAL_ERRORS, NULL);
  g_autoptr (Recipe) r = NULL;
  GstElement *element = NULL;
  GList *l;

  if (bin == NULL)
    return NULL;
  gst_object_ref_sink (bin);
  /* the upstream end: its sink pad, if any, is not linked */
  for (l = GST_BIN_CHILDREN (bin); l; l = l->next) {
    GstPad *sink = only_pad (l->data, GST_PAD_SINK);

    if (GST_IS_BIN (l->data))
      return NULL;
    if (sink == NULL || !gst_pad_is_linked (sink)) {
      if (element)
        return NULL;            /* two sources: not a chain */
      element = l->data;
    }
  }
  r = g_new0 (Recipe, 1);
  r->elements = g_ptr_array_new_with_free_func ((GDestroyNotify)
      element_recipe_free);
  while (element) {
    GstPad *src = only_pad (element, GST_PAD_SRC);
    g_autoptr (GstPad) peer = src ? gst_pad_get_peer (src) : NULL;

    for (l = element->pads; l; l = l->next)
      if (GST_PAD_PAD_TEMPLATE (l->data) && GST_PAD_TEMPLATE_PRESENCE
          (GST_PAD_PAD_TEMPLATE (l->data)) != GST_PAD_ALWAYS)
        return NULL;
    if (element->numsrcpads > 1 || element->numsinkpads > 1)
      return NULL;
    g_ptr_array_add (r->elements, element_recipe_new (element, keep_names));
    element = peer ? GST_ELEMENT (GST_OBJECT_PARENT (peer)) : NULL;
  }
  if (r->elements->len != (guint) GST_BIN_NUMCHILDREN (bin))
    return NULL;
  return g_steal_pointer (&r);
}

/* The elements, linked, added to @bin; each also appended to @elements
 * when given */
static void
recipe_add_to (const Recipe * r, GstBin * bin, GPtrArray * elements)
{
  GstElement *prev = NULL;

  for (guint i = 0; i < r->elements->len; i++) {
    const ElementRecipe *e = g_ptr_array_index (r->elements, i);
    GstElement *element = gst_element_factory_create (e->factory, e->name);

    if (e->names->len)
      g_object_setv (G_OBJECT (element), e->names->len,
          (const char **) e->names->data, (const GValue *) e->values->data);
    gst_bin_add (bin, element);
    if (elements)
      g_ptr_array_add (elements, gst_object_ref (element));
    if (prev)
      gst_pad_link_full (only_pad (prev, GST_PAD_SRC),
          only_pad (element, GST_PAD_SINK), GST_PAD_LINK_CHECK_TEMPLATE_CAPS);
    prev = element;
  }
}

/* The elements, linked, in a new bin */
static GstElement *
recipe_instantiate (const Recipe * r)
{
  GstElement *bin = gst_bin_new (NULL);

  recipe_add_to (r, GST_BIN (bin), NULL);
  return bin;
}

/* The recording of a call that asked for one: a tee after each chain, a
 * leaky queue per medium into the muxer and a filesink, all but the tees in
 * the "recorder" bin. Kept on the pipeline, so it outlives that bin when a
 * failure removes it. */
typedef struct
{
  /* atomic; set from any thread: the tees drop what goes to the recorder
   * (it failed, or is being closed) */
  gint closed;
  gint failed;
  /* atomic: a buffer of media reached the muxer (else the file is empty) */
  gint has_media;
  /* the tees' recorder pads; written on the call's context before data
   * flows, read in stop_pipeline */
  GPtrArray *tee_pads;
  /* protects eos: set from the filesink's streaming thread */
  GMutex lock;
  GCond cond;
  gboolean eos;
} Recorder;

static GQuark recorder_quark;
static GQuark branch_quark;

static void
recorder_free (Recorder * rec)
{
  g_ptr_array_unref (rec->tee_pads);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec);
}

static Recorder *
get_recorder (GstElement * pipeline)
{
  return g_object_get_qdata (G_OBJECT (pipeline), recorder_quark);
}

static GstPadProbeReturn
recorder_eos_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    g_mutex_lock (&rec->lock);
    rec->eos = TRUE;
    g_cond_broadcast (&rec->cond);
    g_mutex_unlock (&rec->lock);
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
recorder_media_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;

  g_atomic_int_set (&rec->has_media, 1);
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
recorder_drop_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;

  return g_atomic_int_get (&rec->closed) ? GST_PAD_PROBE_DROP :
      GST_PAD_PROBE_OK;
}

/* The muxer by the file's extension, then the file */
static GstElement *
recorder_new (Recorder * rec, const char *path, GError ** error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  gboolean mp4 = g_str_has_suffix (lower, ".mp4");
  const char *mux_factory = mp4 ? "mp4mux" : "matroskamux";
  GstElement *bin, *mux, *sink;
  g_autoptr (GstPad) sinkpad = NULL;

  mux = gst_element_factory_make (mux_factory, RECORDER_MUX_NAME);
  sink = gst_element_factory_make ("filesink", NULL);
  if (mux == NULL || sink == NULL) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "element %s not found (GStreamer plugin '%s' not installed)",
        mux ? "filesink" : mux_factory, mux ? "coreelements" :
        mp4 ? "isomp4" : "matroska");
    if (mux)
      gst_object_unref (gst_object_ref_sink (mux));
    if (sink)
      gst_object_unref (gst_object_ref_sink (sink));
    return NULL;
  }
  if (mp4)
    /* fragments: a crash leaves a readable file */
    g_object_set (mux, "fragment-duration", 1000, NULL);
  else
    g_object_set (mux, "streamable", FALSE, "offset-to-zero", TRUE, NULL);
  /* joins a running pipeline: no preroll to wait for */
  g_object_set (sink, "location", path, "async", FALSE, NULL);
  bin = gst_bin_new (RECORDER_NAME);
  gst_bin_add_many (GST_BIN (bin), mux, sink, NULL);
  gst_element_link (mux, sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      recorder_eos_probe, rec, NULL);
  return bin;
}

/* A leaky queue from a new tee into the recorder's muxer: the recorder
 * never holds the live branch back */
static GstPad *
insert_recorder_tee (GstElement * pipeline, Recorder * rec, GstPad * srcpad,
    const char *pad_name, const char *media)
{
  g_autoptr (GstElement) recorder = gst_bin_get_by_name (GST_BIN (pipeline),
      RECORDER_NAME);
  g_autoptr (GstElement) mux = NULL;
  g_autofree char *tee_name = g_strdup_printf ("%s-tee", pad_name);
  g_autofree char *mux_template = g_strdup_printf ("%s_%%u", media);
  g_autoptr (GstPad) tee_sink = NULL;
  g_autoptr (GstPad) queue_sink = NULL;
  g_autoptr (GstPad) queue_src = NULL;
  g_autoptr (GstPad) mux_sink = NULL;
  GstPad *live, *rec_pad;
  GstElement *tee, *queue;

  tee = gst_element_factory_make ("tee", tee_name);
  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (pipeline), tee);
  tee_sink = gst_element_get_static_pad (tee, "sink");
  gst_pad_link (srcpad, tee_sink);
  live = gst_element_request_pad_simple (tee, "src_%u");
  rec_pad = gst_element_request_pad_simple (tee, "src_%u");
  gst_pad_add_probe (rec_pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, recorder_drop_probe, rec, NULL);
  g_ptr_array_add (rec->tee_pads, rec_pad);
  gst_element_sync_state_with_parent (tee);

  if (recorder == NULL)
    return live;                /* removed: it failed */
  mux = gst_bin_get_by_name (GST_BIN (recorder), RECORDER_MUX_NAME);
  queue = gst_element_factory_make ("queue", NULL);
  g_object_set (queue, "max-size-time", (guint64) RECORDER_QUEUE_TIME,
      "max-size-buffers", 0, "max-size-bytes", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  gst_bin_add (GST_BIN (recorder), queue);
  queue_sink = gst_element_get_static_pad (queue, "sink");
  queue_src = gst_element_get_static_pad (queue, "src");
  gst_pad_add_probe (queue_src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, recorder_media_probe, rec, NULL);
  mux_sink = gst_element_request_pad_simple (mux, mux_template);
  if (mux_sink == NULL || gst_pad_link (queue_src, mux_sink) != GST_PAD_LINK_OK
      || !gst_pad_link_maybe_ghosting (rec_pad, queue_sink)) {
    GST_WARNING_OBJECT (pipeline, "%s: cannot record %s", pad_name, media);
    g_atomic_int_set (&rec->failed, 1);
    g_atomic_int_set (&rec->closed, 1);
  }
  return live;
}

void
s2r_template_free (S2rTemplate * tmpl)
{
  if (tmpl == NULL)
    return;
  g_free (tmpl->name);
  g_free (tmpl->sink);
  g_free (tmpl->audio);
  g_free (tmpl->video);
  g_hash_table_unref (tmpl->depayloaders);
  recipe_free (tmpl->sink_recipe);
  g_hash_table_unref (tmpl->part_recipes);
  g_free (tmpl);
}

static gboolean
check_parses (const char *what, const char *description, GError ** error)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GstElement) bin = gst_parse_bin_from_description_full (description,
      FALSE, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &err);

  if (bin == NULL) {
    s2r_set_error_field (error, S2R_ERROR_INTERNAL, what,
        "template %s: %s", what, err->message);
    return FALSE;
  }
  return TRUE;
}

/* Checked once at startup, so a broken template fails the daemon, not a call */
S2rTemplate *
s2r_template_load (const char *dir, const char *name, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *file = g_strdup_printf ("%s.pipeline", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (S2rTemplate) tmpl = g_new0 (S2rTemplate, 1);
  g_auto (GStrv) keys = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstElement) rtmp = NULL;

  GST_DEBUG_CATEGORY_INIT (s2r_pipeline_debug, "s2r-pipeline", 0,
      "sip2rtmp pipeline templates");
  recorder_quark = g_quark_from_static_string ("s2r-recorder");
  branch_quark = g_quark_from_static_string ("s2r-branch");

  tmpl->depayloaders = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  tmpl->part_recipes = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, (GDestroyNotify) recipe_free);
  tmpl->name = g_strdup (name);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    goto failed;
  if (!(tmpl->sink = g_key_file_get_string (kf, "template", "sink", error)) ||
      !(tmpl->audio = g_key_file_get_string (kf, "template", "audio", error))
      || !(tmpl->video = g_key_file_get_string (kf, "template", "video",
              error)))
    goto failed;

  keys = g_key_file_get_keys (kf, "depayloaders", NULL, error);
  if (keys == NULL)
    goto failed;
  for (guint i = 0; keys[i]; i++) {
    char *desc = g_key_file_get_string (kf, "depayloaders", keys[i], NULL);

    if (desc && !check_parses (keys[i], desc, NULL)) {
      /* A decoder not installed here disables that codec only */
      g_warning ("template %s: codec %s unavailable (%s)", name, keys[i], desc);
      g_free (desc);
      continue;
    }
    g_hash_table_replace (tmpl->depayloaders, g_ascii_strup (keys[i], -1),
        desc);
  }

  if (!check_parses ("audio", tmpl->audio, error) ||
      !check_parses ("video", tmpl->video, error))
    goto failed;

  sink = gst_parse_bin_from_description_full (tmpl->sink, FALSE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (sink == NULL)
    goto failed;
  gst_object_ref_sink (sink);
  rtmp = gst_bin_get_by_name (GST_BIN (sink), RTMP_NAME);
  if (rtmp == NULL || g_signal_lookup ("add-location",
          G_OBJECT_TYPE (rtmp)) == 0) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "template %s: the sink must name its RTMP publisher (rtmppubsink) \""
        RTMP_NAME "\"", name);
    goto failed;
  }
  tmpl->sink_recipe = recipe_new (tmpl->sink, TRUE);
  {
    g_autoptr (GList) parts = g_hash_table_get_values (tmpl->depayloaders);

    parts = g_list_prepend (g_list_prepend (parts, tmpl->video), tmpl->audio);
    for (GList * l = parts; l; l = l->next) {
      Recipe *r = recipe_new (l->data, FALSE);

      if (r)
        g_hash_table_replace (tmpl->part_recipes, g_strdup (l->data), r);
    }
  }
  GST_INFO ("template %s: sink %s, %u of %u chains parsed once", name,
      tmpl->sink_recipe ? "parsed once" : "parsed per call",
      g_hash_table_size (tmpl->part_recipes),
      g_hash_table_size (tmpl->depayloaders) + 2);
  return g_steal_pointer (&tmpl);

failed:
  g_prefix_error (error, "%s: ", path);
  return NULL;
}

/* A codec [sip] codecs offers must be one the template can publish */
gboolean
s2r_template_check_codecs (const S2rTemplate * tmpl, const char *codecs,
    GError ** error)
{
  g_auto (GStrv) names = g_strsplit (codecs ? codecs : "", ",", -1);

  for (guint i = 0; names[i]; i++) {
    g_autofree char *name = g_ascii_strup (g_strstrip (names[i]), -1);

    if (!g_hash_table_contains (tmpl->depayloaders, name)) {
      s2r_set_error_field (error, S2R_ERROR_INTERNAL, "codecs",
          "[sip] codecs: template %s has no depayloader for '%s' "
          "(its [depayloaders] section)", tmpl->name, names[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Only set what this sipsrc has: the element is developed alongside */
static void
set_prop (GstElement * element, const char *name, const char *value)
{
  if (value == NULL)
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), name) == NULL) {
    GST_WARNING_OBJECT (element, "no property %s", name);
    return;
  }
  gst_util_set_object_arg (G_OBJECT (element), name, value);
}

static void
set_string_prop (GstElement * element, const char *name, const char *value)
{
  if (value == NULL)
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), name) == NULL) {
    GST_WARNING_OBJECT (element, "no property %s", name);
    return;
  }
  /* Set as a string so nothing is parsed out of user input */
  g_object_set (element, name, value, NULL);
}

static void
set_uint_prop (GstElement * element, const char *name, guint value)
{
  g_autofree char *str = g_strdup_printf ("%u", value);

  set_prop (element, name, str);
}

static void
configure_sipsrc (GstElement * sip, const S2rCallRequest * req,
    const S2rConfig * config)
{
  set_string_prop (sip, "uri", s2r_call_request_get_sip_uri (req));
  set_string_prop (sip, "user-id", s2r_call_request_get_sip_login (req));
  set_string_prop (sip, "user-pw", s2r_call_request_get_sip_password (req));
  set_string_prop (sip, "auth-user", s2r_call_request_get_sip_auth_name (req));
  set_string_prop (sip, "from-uri", s2r_call_request_get_from_uri (req));
  set_string_prop (sip, "display-name",
      s2r_call_request_get_visible_name (req));
  set_string_prop (sip, "proxy", s2r_call_request_get_proxy (req));
  set_prop (sip, "transport", s2r_call_request_get_transport (req));
  set_string_prop (sip, "local-address", s2r_config_get_local_address (config));
  set_string_prop (sip, "public-address",
      s2r_call_request_get_public_address (req) ?
      s2r_call_request_get_public_address (req) :
      s2r_config_get_public_address (config));
  set_string_prop (sip, "user-agent", s2r_config_get_user_agent (config));
  set_string_prop (sip, "codecs", s2r_config_get_codecs (config));
  set_prop (sip, "srtp", s2r_call_request_get_srtp (req) ?
      s2r_call_request_get_srtp (req) : s2r_config_get_srtp (config));
  set_string_prop (sip, "tls-ca-file", s2r_config_get_tls_ca_file (config));
  set_prop (sip, "tls-verify", s2r_config_get_tls_verify (config) ?
      "true" : "false");
  set_string_prop (sip, "tls-cert-file",
      s2r_config_get_tls_cert_file (config));
  set_string_prop (sip, "tls-key-file", s2r_config_get_tls_key_file (config));
  /* WCS: both media are offered; "true" sends too, "false" only receives */
  set_prop (sip, "audio", s2r_call_request_get_has_audio (req) ?
      "sendrecv" : "recvonly");
  set_prop (sip, "video", s2r_call_request_get_has_video (req) ?
      "sendrecv" : "recvonly");
  set_prop (sip, "register", s2r_call_request_get_register (req) ?
      "true" : "false");
  set_string_prop (sip, "dtmf", s2r_call_request_get_dtmf (req));
  if (s2r_call_request_get_sip_headers (req)) {
    const char *const *h = s2r_call_request_get_sip_headers (req);
    GstStructure *headers = gst_structure_new_empty ("headers");

    /* checked by the request (s2r-sip-fields.c), as sipsrc will */
    for (; h[0] && h[1]; h += 2)
      gst_structure_set (headers, h[0], G_TYPE_STRING, h[1], NULL);
    g_object_set (sip, "sip-headers", headers, NULL);
    gst_structure_free (headers);
  }
  set_uint_prop (sip, "answer-timeout", s2r_config_get_answer_timeout (config));
  set_uint_prop (sip, "rtp-timeout", s2r_call_request_get_rtp_timeout (req) >=
      0 ? (guint) s2r_call_request_get_rtp_timeout (req) :
      s2r_config_get_rtp_timeout (config));
  /* issue 14: an incoming call is answered, not placed */
  s2r_incoming_configure_sipsrc (sip, s2r_call_request_get_incoming (req));
}

GstElement *
s2r_template_instantiate (const S2rTemplate * tmpl, const S2rCallRequest * req,
    const S2rConfig * config, GError ** error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) rtmp = NULL;
  GstElement *sip, *sink;
  g_autoptr (GError) err = NULL;

  sip = gst_element_factory_make ("sipsrc", SIP_NAME);
  if (sip == NULL) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "element sipsrc not found (GStreamer plugin 'sip2rtmp' not installed)");
    return NULL;
  }
  if (tmpl->sink_recipe)
    sink = recipe_instantiate (tmpl->sink_recipe);
  else
    sink = gst_parse_bin_from_description_full (tmpl->sink, FALSE, NULL,
        GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (sink == NULL) {
    gst_object_unref (gst_object_ref_sink (sip));
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL, "template %s: %s",
        tmpl->name, err->message);
    return NULL;
  }
  gst_object_set_name (GST_OBJECT (sink), SINK_BIN_NAME);

  pipeline = gst_pipeline_new (s2r_call_request_get_call_id (req));
  gst_object_ref_sink (pipeline);
  gst_bin_add_many (GST_BIN (pipeline), sip, sink, NULL);

  configure_sipsrc (sip, req, config);
  rtmp = gst_bin_get_by_name (GST_BIN (sink), RTMP_NAME);
  /* the first destination; the others are added once it runs */
  g_object_set (rtmp, "location", s2r_call_request_get_rtmp_location (req),
      "retry-budget", s2r_call_request_get_rtmp_retry_budget (req) >= 0 ?
      (guint) s2r_call_request_get_rtmp_retry_budget (req) :
      s2r_config_get_retry_budget (config), NULL);
  /* Only used when no video pad is requested: a call whose callee sends
   * video publishes that instead */
  if (s2r_call_request_get_generate_video (req) >= 0 ?
      s2r_call_request_get_generate_video (req) == 1 :
      s2r_config_get_still_video (config))
    g_object_set (rtmp, "still-video", TRUE, NULL);

  if (s2r_call_request_get_record (req)) {
    Recorder *rec = g_new0 (Recorder, 1);
    g_autofree char *path = g_build_filename (s2r_config_get_record_dir
        (config), s2r_call_request_get_record (req), NULL);
    GstElement *recorder;

    g_mutex_init (&rec->lock);
    g_cond_init (&rec->cond);
    rec->tee_pads = g_ptr_array_new_with_free_func (gst_object_unref);
    g_object_set_qdata_full (G_OBJECT (pipeline), recorder_quark, rec,
        (GDestroyNotify) recorder_free);
    recorder = recorder_new (rec, path, error);
    if (recorder == NULL)
      return NULL;
    gst_bin_add (GST_BIN (pipeline), recorder);
    /* no file is created for a call that is never answered */
    gst_element_set_locked_state (recorder, TRUE);
  }

  /* The muxer's pads are requested before data flows: the sink part waits
   * until every media pad of the call is known and linked, and no RTMP
   * session is opened for a call that is never answered */
  gst_element_set_locked_state (sink, TRUE);

  return g_steal_pointer (&pipeline);
}

GstElement *
s2r_pipeline_get_sipsrc (GstElement * pipeline)
{
  return gst_bin_get_by_name (GST_BIN (pipeline), SIP_NAME);
}

GstElement *
s2r_pipeline_get_rtmpsink (GstElement * pipeline)
{
  return gst_bin_get_by_name (GST_BIN (pipeline), RTMP_NAME);
}

gboolean
s2r_pipeline_is_rtmp_element (GstElement * pipeline, GstObject * obj)
{
  g_autoptr (GstElement) rtmp = s2r_pipeline_get_rtmpsink (pipeline);

  return rtmp && obj == GST_OBJECT (rtmp);
}

gboolean
s2r_pipeline_is_sip_element (GstElement * pipeline, GstObject * obj)
{
  g_autoptr (GstElement) sip = s2r_pipeline_get_sipsrc (pipeline);

  return obj == GST_OBJECT (sip) ||
      gst_object_has_as_ancestor (obj, GST_OBJECT (sip));
}

/* The encoding-name of fixed caps, upper case, or NULL */
static char *
caps_encoding (GstCaps * caps)
{
  const GstStructure *s;
  const char *encoding;

  if (caps == NULL || gst_caps_get_size (caps) != 1)
    return NULL;
  s = gst_caps_get_structure (caps, 0);
  encoding = gst_structure_get_string (s, "encoding-name");
  return encoding ? g_ascii_strup (encoding, -1) : NULL;
}

/* The caps event only comes with the first packet: the encoding is read
 * from the caps when known, else from sipsrc's stats; the media from the
 * caps or the pad's name (audio_%u, video_%u). */
gboolean
s2r_pipeline_get_pad_codec (GstElement * pipeline, GstPad * pad,
    char **media, char **encoding)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autofree char *pad_name = gst_pad_get_name (pad);
  const GstStructure *s = NULL;

  *media = NULL;
  *encoding = NULL;
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && gst_caps_get_size (caps) > 0)
    s = gst_caps_get_structure (caps, 0);

  if (s && gst_structure_get_string (s, "media"))
    *media = g_strdup (gst_structure_get_string (s, "media"));
  else if (g_str_has_prefix (pad_name, "audio"))
    *media = g_strdup ("audio");
  else if (g_str_has_prefix (pad_name, "video"))
    *media = g_strdup ("video");

  if (caps && gst_caps_is_fixed (caps))
    *encoding = caps_encoding (caps);
  if (*encoding == NULL && *media) {
    g_autoptr (GstElement) sip = s2r_pipeline_get_sipsrc (pipeline);
    g_autoptr (GstStructure) stats = NULL;
    g_autofree char *field = g_strdup_printf ("%s-codec", *media);

    g_object_get (sip, "stats", &stats, NULL);
    if (stats && gst_structure_get_string (stats, field) &&
        *gst_structure_get_string (stats, field))
      *encoding = g_ascii_strup (gst_structure_get_string (stats, field), -1);
  }
  return *media != NULL && *encoding != NULL;
}

/* The template's muxer: "mux" if it names one, else the publisher itself */
static GstElement *
get_muxer (GstElement * pipeline)
{
  GstElement *mux = gst_bin_get_by_name (GST_BIN (pipeline), MUX_NAME);

  return mux ? mux : s2r_pipeline_get_rtmpsink (pipeline);
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
  const Recipe *r = g_hash_table_lookup (tmpl->part_recipes, description);
  GstElement *first, *last;

  part->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  if (r) {
    recipe_add_to (r, bin, part->elements);
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
        "source pad", tmpl->name, description);
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
  const char *description = g_hash_table_lookup (b->tmpl->depayloaders,
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
  char *encoding = caps_encoding (caps);

  if (g_strcmp0 (encoding, b->encoding) == 0)
    g_clear_pointer (&encoding, g_free);
  return encoding;
}

static gboolean
branch_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  Branch *b = g_object_get_qdata (G_OBJECT (parent), branch_quark);
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
  Branch *b = g_object_get_qdata (G_OBJECT (parent), branch_quark);
  GstCaps *caps;
  g_autofree char *encoding = NULL;

  if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
    gst_query_parse_accept_caps (query, &caps);
    encoding = other_encoding (b, caps);
    if (encoding) {
      const char *media = gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "media");

      gst_query_set_accept_caps_result (query, g_strcmp0 (media, b->media) == 0
          && g_hash_table_contains (b->tmpl->depayloaders, encoding));
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstElement *
branch_new (const S2rTemplate * tmpl, const char *pad_name, const char *media,
    const char *encoding, GError ** error)
{
  const char *chain_description = g_strcmp0 (media, "audio") == 0 ?
      tmpl->audio : tmpl->video;
  const char *depay_description = g_hash_table_lookup (tmpl->depayloaders,
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
        tmpl->name);
    return NULL;
  }
  branch = gst_bin_new (name);
  b = g_new0 (Branch, 1);
  b->tmpl = tmpl;
  b->media = g_strdup (media);
  b->encoding = g_strdup (encoding);
  g_object_set_qdata_full (G_OBJECT (branch), branch_quark, b,
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

gboolean
s2r_template_link_pad (const S2rTemplate * tmpl, GstElement * pipeline,
    GstPad * pad, GError ** error)
{
  g_autoptr (GstElement) mux = get_muxer (pipeline);
  g_autofree char *encoding = NULL;
  g_autofree char *media = NULL;
  g_autofree char *pad_name = gst_pad_get_name (pad);
  g_autoptr (GstPad) sinkpad = NULL;
  g_autoptr (GstPad) muxpad = NULL;
  g_autoptr (GstPad) srcpad = NULL;
  GstElement *branch;
  GstPadLinkReturn ret = GST_PAD_LINK_REFUSED;

  if (!s2r_pipeline_get_pad_codec (pipeline, pad, &media, &encoding)) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "pad %s: unknown media or encoding", pad_name);
    return FALSE;
  }
  if (g_strcmp0 (media, "audio") != 0 && g_strcmp0 (media, "video") != 0) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "pad %s: unsupported media %s", pad_name, media);
    return FALSE;
  }
  branch = branch_new (tmpl, pad_name, media, encoding, error);
  if (branch == NULL)
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), branch);

  sinkpad = gst_element_get_static_pad (branch, "sink");
  srcpad = gst_element_get_static_pad (branch, "src");
  if (get_recorder (pipeline)) {
    GstPad *live = insert_recorder_tee (pipeline, get_recorder (pipeline),
        srcpad, pad_name, media);

    gst_object_unref (srcpad);
    srcpad = live;
  }
  muxpad = gst_element_request_pad_simple (mux, media);
  if (muxpad == NULL ||
      (ret = gst_pad_link (pad, sinkpad)) != GST_PAD_LINK_OK ||
      /* the muxer lives in the sink bin: ghost through it */
      !gst_pad_link_maybe_ghosting (srcpad, muxpad)) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "pad %s: cannot link %s to the muxer (%s)", pad_name, encoding,
        gst_pad_link_get_name (ret));
    if (muxpad)
      gst_element_release_request_pad (mux, muxpad);
    gst_bin_remove (GST_BIN (pipeline), branch);
    return FALSE;
  }
  gst_element_sync_state_with_parent (branch);
  return TRUE;
}

/* Downstream first, so the branches never push into a stopped muxer */
void
s2r_template_start_sink (GstElement * pipeline)
{
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline),
      SINK_BIN_NAME);

  gst_element_set_locked_state (sink, FALSE);
  gst_element_sync_state_with_parent (sink);
}

gboolean
s2r_pipeline_has_recorder (GstElement * pipeline)
{
  return get_recorder (pipeline) != NULL;
}

/* Before data flows; FALSE if the file cannot be written (the recorder is
 * then removed: the call goes on without it) */
gboolean
s2r_pipeline_start_recorder (GstElement * pipeline)
{
  g_autoptr (GstElement) recorder = gst_bin_get_by_name (GST_BIN (pipeline),
      RECORDER_NAME);
  Recorder *rec = get_recorder (pipeline);

  if (rec == NULL || recorder == NULL || g_atomic_int_get (&rec->failed)) {
    s2r_pipeline_remove_recorder (pipeline);
    return FALSE;
  }
  gst_element_set_locked_state (recorder, FALSE);
  if (!gst_element_sync_state_with_parent (recorder)) {
    s2r_pipeline_remove_recorder (pipeline);
    return FALSE;
  }
  return TRUE;
}

/**
 * s2r_pipeline_recorder_message:
 *
 * Whether @msg comes from a call's recorder. Any thread: called where the
 * message is posted, an error stops what goes to the recorder there and
 * then, before the failed muxer or file can fail the live branch too.
 */
gboolean
s2r_pipeline_recorder_message (GstMessage * msg)
{
  GstObject *obj = GST_MESSAGE_SRC (msg);
  gboolean found = FALSE;

  if (obj == NULL)
    return FALSE;
  gst_object_ref (obj);
  while (obj) {
    GstObject *parent = gst_object_get_parent (obj);

    if (!found && GST_IS_BIN (obj) && parent && GST_IS_PIPELINE (parent) &&
        get_recorder (GST_ELEMENT (parent)) &&
        g_strcmp0 (GST_OBJECT_NAME (obj), RECORDER_NAME) == 0) {
      Recorder *rec = get_recorder (GST_ELEMENT (parent));

      found = TRUE;
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
        g_atomic_int_set (&rec->failed, 1);
        g_atomic_int_set (&rec->closed, 1);
      }
    }
    gst_object_unref (obj);
    obj = parent;
  }
  return found;
}

/* On the call's context: the recorder leaves the pipeline, which then
 * reaches EOS without it */
void
s2r_pipeline_remove_recorder (GstElement * pipeline)
{
  Recorder *rec = get_recorder (pipeline);
  g_autoptr (GstElement) recorder = NULL;

  if (rec == NULL)
    return;
  g_atomic_int_set (&rec->failed, 1);
  g_atomic_int_set (&rec->closed, 1);
  recorder = gst_bin_get_by_name (GST_BIN (pipeline), RECORDER_NAME);
  if (recorder == NULL)
    return;
  gst_element_set_locked_state (recorder, TRUE);
  gst_bin_remove (GST_BIN (pipeline), recorder);
  gst_element_set_state (recorder, GST_STATE_NULL);
}

/**
 * s2r_pipeline_finish_recording:
 *
 * Makes sure the file is finalized (the muxer's index or last fragment
 * written) before the pipeline stops: if the call ended without EOS
 * reaching the recorder (an error, the drain timeout), EOS is sent into it
 * and waited for, up to @timeout_ms. Blocks: not on the call's context.
 *
 * Returns: whether the recording is complete and holds media
 */
gboolean
s2r_pipeline_finish_recording (GstElement * pipeline, guint timeout_ms)
{
  Recorder *rec = get_recorder (pipeline);
  gint64 deadline = g_get_monotonic_time () + timeout_ms *
      G_TIME_SPAN_MILLISECOND;
  gboolean eos;

  if (s2r_pipeline_recording_is_complete (pipeline))
    return TRUE;
  if (rec == NULL || g_atomic_int_get (&rec->failed))
    return FALSE;

  g_atomic_int_set (&rec->closed, 1);
  for (guint i = 0; i < rec->tee_pads->len; i++) {
    g_autoptr (GstPad) peer = gst_pad_get_peer (g_ptr_array_index
        (rec->tee_pads, i));

    if (peer)
      gst_pad_send_event (peer, gst_event_new_eos ());
  }
  g_mutex_lock (&rec->lock);
  while (!rec->eos) {
    if (!g_cond_wait_until (&rec->cond, &rec->lock, deadline))
      break;
  }
  eos = rec->eos;
  g_mutex_unlock (&rec->lock);
  GST_INFO_OBJECT (pipeline, "recording %s", eos ? "finalized" :
      "not finalized in time");
  return eos && g_atomic_int_get (&rec->has_media);
}

/* The file got its EOS (so its index) and some media; does not block */
gboolean
s2r_pipeline_recording_is_complete (GstElement * pipeline)
{
  Recorder *rec = get_recorder (pipeline);
  gboolean eos;

  if (rec == NULL || g_atomic_int_get (&rec->failed))
    return FALSE;
  g_mutex_lock (&rec->lock);
  eos = rec->eos;
  g_mutex_unlock (&rec->lock);
  return eos && g_atomic_int_get (&rec->has_media);
}
