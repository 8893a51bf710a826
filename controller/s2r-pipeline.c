/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-pipeline.h"
#include "s2r-error.h"
#include "s2r-sipsrc-config.h"

#define SIP_NAME "sip"
#define SINK_BIN_NAME "sink"

GstElement *
s2r_template_instantiate (const S2rTemplate * tmpl, const S2rCallRequest * req,
    const S2rCallSettings * settings, const S2rConfig * config,
    GError ** error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) rtmp = NULL;
  GstElement *sip, *sink;

  sip = gst_element_factory_make ("sipsrc", SIP_NAME);
  if (sip == NULL) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "element sipsrc not found (GStreamer plugin 'sip2rtmp' not installed)");
    return NULL;
  }
  sink = s2r_template_make_sink (tmpl, error);
  if (sink == NULL) {
    gst_object_unref (gst_object_ref_sink (sip));
    return NULL;
  }
  gst_object_set_name (GST_OBJECT (sink), SINK_BIN_NAME);

  pipeline = gst_pipeline_new (s2r_call_request_get_call_id (req));
  gst_object_ref_sink (pipeline);
  gst_bin_add_many (GST_BIN (pipeline), sip, sink, NULL);

  s2r_sipsrc_configure (sip, req, settings, config);
  /* its locations are the call's destinations, given when it starts
   * (s2r-destination.c) */
  rtmp = gst_bin_get_by_name (GST_BIN (sink), S2R_RTMP_NAME);
  g_object_set (rtmp, "retry-budget", settings->retry_budget, NULL);
  /* Only used when no video pad is requested: a call whose callee sends
   * video publishes that instead */
  if (settings->generate_video)
    g_object_set (rtmp, "still-video", TRUE, NULL);

  if (s2r_call_request_get_record (req)) {
    g_autofree char *path = g_build_filename (s2r_config_get_record_dir
        (config), s2r_call_request_get_record (req), NULL);

    if (!s2r_recorder_attach (pipeline, path, error))
      return NULL;
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
  return gst_bin_get_by_name (GST_BIN (pipeline), S2R_RTMP_NAME);
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
    *encoding = s2r_caps_get_encoding (caps);
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
  GstElement *mux = gst_bin_get_by_name (GST_BIN (pipeline), S2R_MUX_NAME);

  return mux ? mux : s2r_pipeline_get_rtmpsink (pipeline);
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
  branch = s2r_branch_new (tmpl, pad_name, media, encoding, error);
  if (branch == NULL)
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), branch);

  sinkpad = gst_element_get_static_pad (branch, "sink");
  srcpad = gst_element_get_static_pad (branch, "src");
  if (s2r_pipeline_has_recorder (pipeline)) {
    GstPad *live = s2r_recorder_tee (pipeline, srcpad, pad_name, media);

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
