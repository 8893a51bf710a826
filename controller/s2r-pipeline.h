/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "s2r-branch.h"
#include "s2r-call-request.h"
#include "s2r-call-settings.h"
#include "s2r-config.h"
#include "s2r-recorder.h"
#include "s2r-template.h"

G_BEGIN_DECLS

/* A call's pipeline: sipsrc "sip", the template's sink part "sink" (its
 * rtmppubsink "rtmp"), a branch per media pad between them
 * (s2r-branch.c), and the recorder if the call asked for one
 * (s2r-recorder.c). */
GstElement *s2r_template_instantiate (const S2rTemplate * tmpl,
    const S2rCallRequest * req, const S2rCallSettings * settings,
    const S2rConfig * config, GError ** error);
gboolean s2r_template_link_pad (const S2rTemplate * tmpl,
    GstElement * pipeline, GstPad * pad, GError ** error);
void s2r_template_start_sink (GstElement * pipeline);
GstElement *s2r_pipeline_get_sipsrc (GstElement * pipeline);
GstElement *s2r_pipeline_get_rtmpsink (GstElement * pipeline);
gboolean s2r_pipeline_get_pad_codec (GstElement * pipeline, GstPad * pad,
    char **media, char **encoding);
gboolean s2r_pipeline_is_sip_element (GstElement * pipeline, GstObject * obj);
gboolean s2r_pipeline_is_rtmp_element (GstElement * pipeline,
    GstObject * obj);

G_END_DECLS
