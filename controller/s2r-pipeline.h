/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "s2r-call-request.h"
#include "s2r-config.h"

G_BEGIN_DECLS

/**
 * S2rTemplate:
 *
 * A pipeline template from the pipelines directory (see
 * `pipelines/default.pipeline`): the muxer and sink part, one chain per
 * media kind and a depayloader per RTP encoding name.
 */
typedef struct _S2rTemplate S2rTemplate;

/* Element message of a branch whose depayloader followed a codec change
 * of the peer: fields "media" and "encoding" (the new one) */
#define S2R_CODEC_MESSAGE "s2r-codec-changed"

S2rTemplate *s2r_template_load (const char *dir, const char *name,
    GError ** error);
void s2r_template_free (S2rTemplate * tmpl);
gboolean s2r_template_check_codecs (const S2rTemplate * tmpl,
    const char *codecs, GError ** error);

GstElement *s2r_template_instantiate (const S2rTemplate * tmpl,
    const S2rCallRequest * req, const S2rConfig * config, GError ** error);
gboolean s2r_template_link_pad (const S2rTemplate * tmpl,
    GstElement * pipeline, GstPad * pad, GError ** error);
void s2r_template_start_sink (GstElement * pipeline);
gboolean s2r_pipeline_has_recorder (GstElement * pipeline);
gboolean s2r_pipeline_start_recorder (GstElement * pipeline);
gboolean s2r_pipeline_recorder_message (GstMessage * msg);
void s2r_pipeline_remove_recorder (GstElement * pipeline);
gboolean s2r_pipeline_finish_recording (GstElement * pipeline,
    guint timeout_ms);
gboolean s2r_pipeline_recording_is_complete (GstElement * pipeline);
GstElement *s2r_pipeline_get_sipsrc (GstElement * pipeline);
GstElement *s2r_pipeline_get_rtmpsink (GstElement * pipeline);
gboolean s2r_pipeline_get_pad_codec (GstElement * pipeline, GstPad * pad,
    char **media, char **encoding);
gboolean s2r_pipeline_is_sip_element (GstElement * pipeline, GstObject * obj);
gboolean s2r_pipeline_is_rtmp_element (GstElement * pipeline,
    GstObject * obj);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rTemplate, s2r_template_free);

G_END_DECLS
