/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* A call's recording (its request's `record` file): a tee after each
 * branch into a muxer and a file, which never holds the live stream back
 * and whose failure never fails the call. Kept on the pipeline. */
gboolean s2r_recorder_attach (GstElement * pipeline, const char *path,
    GError ** error);
GstPad *s2r_recorder_tee (GstElement * pipeline, GstPad * srcpad,
    const char *pad_name, const char *media);

gboolean s2r_pipeline_has_recorder (GstElement * pipeline);
gboolean s2r_pipeline_start_recorder (GstElement * pipeline);
gboolean s2r_pipeline_recorder_message (GstMessage * msg);
void s2r_pipeline_remove_recorder (GstElement * pipeline);
gboolean s2r_pipeline_finish_recording (GstElement * pipeline,
    guint timeout_ms);
gboolean s2r_pipeline_recording_is_complete (GstElement * pipeline);

G_END_DECLS
