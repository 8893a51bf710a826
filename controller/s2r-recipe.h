/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * S2rRecipe:
 *
 * A linear chain of a template (`a ! b prop=1 ! c`) parsed once: each call
 * then makes its elements from their factories, sets the properties the
 * description gave them and links them, without running gst_parse again.
 */
typedef struct _S2rRecipe S2rRecipe;

S2rRecipe *s2r_recipe_new (const char *description, gboolean keep_names);
void s2r_recipe_free (S2rRecipe * recipe);
void s2r_recipe_add_to (const S2rRecipe * recipe, GstBin * bin,
    GPtrArray * elements);
GstElement *s2r_recipe_instantiate (const S2rRecipe * recipe);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rRecipe, s2r_recipe_free);

G_END_DECLS
