/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "s2r-recipe.h"

G_BEGIN_DECLS

/**
 * S2rTemplate:
 *
 * A pipeline template from the pipelines directory (see
 * `pipelines/default.pipeline`): the muxer and sink part, one chain per
 * media kind and a depayloader per RTP encoding name. Loaded and checked
 * once at start-up; read-only afterwards, shared by every call.
 */
typedef struct _S2rTemplate S2rTemplate;

/* The names a template's sink part gives its elements: the RTMP publisher
 * (rtmppubsink) must be "rtmp"; a muxer before it, if any, "mux" */
#define S2R_RTMP_NAME "rtmp"
#define S2R_MUX_NAME "mux"

S2rTemplate *s2r_template_load (const char *dir, const char *name,
    GError ** error);
void s2r_template_free (S2rTemplate * tmpl);
gboolean s2r_template_check_codecs (const S2rTemplate * tmpl,
    const char *codecs, GError ** error);

const char *s2r_template_get_name (const S2rTemplate * tmpl);
const char *s2r_template_get_chain (const S2rTemplate * tmpl,
    const char *media);
const char *s2r_template_get_depayloader (const S2rTemplate * tmpl,
    const char *encoding);
const S2rRecipe *s2r_template_get_recipe (const S2rTemplate * tmpl,
    const char *description);
GstElement *s2r_template_make_sink (const S2rTemplate * tmpl,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rTemplate, s2r_template_free);

G_END_DECLS
