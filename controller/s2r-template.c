/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-template.h"
#include "s2r-debug.h"
#include "s2r-error.h"

S2R_DEBUG_CATEGORY ("s2r-template", "sip2rtmp pipeline templates");
#define GST_CAT_DEFAULT s2r_debug_category ()

struct _S2rTemplate
{
  char *name;
  char *sink;
  char *audio;
  char *video;
  /* encoding-name (upper case) -> depayloader description */
  GHashTable *depayloaders;
  /* parsed once: the sink part, and each depayloader's and media chain's
   * description -> its S2rRecipe */
  S2rRecipe *sink_recipe;
  GHashTable *part_recipes;
};

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
  s2r_recipe_free (tmpl->sink_recipe);
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

  tmpl->depayloaders = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  tmpl->part_recipes = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, (GDestroyNotify) s2r_recipe_free);
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
  rtmp = gst_bin_get_by_name (GST_BIN (sink), S2R_RTMP_NAME);
  if (rtmp == NULL || g_signal_lookup ("add-location",
          G_OBJECT_TYPE (rtmp)) == 0) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "template %s: the sink must name its RTMP publisher (rtmppubsink) \""
        S2R_RTMP_NAME "\"", name);
    goto failed;
  }
  tmpl->sink_recipe = s2r_recipe_new (tmpl->sink, TRUE);
  {
    g_autoptr (GList) parts = g_hash_table_get_values (tmpl->depayloaders);

    parts = g_list_prepend (g_list_prepend (parts, tmpl->video), tmpl->audio);
    for (GList * l = parts; l; l = l->next) {
      S2rRecipe *r = s2r_recipe_new (l->data, FALSE);

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

const char *
s2r_template_get_name (const S2rTemplate * tmpl)
{
  return tmpl->name;
}

/* The chain of a media kind: "audio" or "video" */
const char *
s2r_template_get_chain (const S2rTemplate * tmpl, const char *media)
{
  return g_strcmp0 (media, "audio") == 0 ? tmpl->audio : tmpl->video;
}

/* NULL: the template cannot publish that encoding (upper case) */
const char *
s2r_template_get_depayloader (const S2rTemplate * tmpl, const char *encoding)
{
  return g_hash_table_lookup (tmpl->depayloaders, encoding);
}

/* NULL: the description is not a plain chain, parse it per call */
const S2rRecipe *
s2r_template_get_recipe (const S2rTemplate * tmpl, const char *description)
{
  return g_hash_table_lookup (tmpl->part_recipes, description);
}

/* A call's sink part, unnamed, floating */
GstElement *
s2r_template_make_sink (const S2rTemplate * tmpl, GError ** error)
{
  g_autoptr (GError) err = NULL;
  GstElement *sink;

  if (tmpl->sink_recipe)
    return s2r_recipe_instantiate (tmpl->sink_recipe);
  sink = gst_parse_bin_from_description_full (tmpl->sink, FALSE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (sink == NULL)
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL, "template %s: %s",
        tmpl->name, err->message);
  return sink;
}
