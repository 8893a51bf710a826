/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-recipe.h"


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

struct _S2rRecipe
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

void
s2r_recipe_free (S2rRecipe * r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->elements);
  g_free (r);
}

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

S2rRecipe *
s2r_recipe_new (const char *description, gboolean keep_names)
{
  g_autoptr (GstElement) bin = gst_parse_bin_from_description_full
      (description, FALSE, NULL, GST_PARSE_FLAG_FATAL_ERRORS, NULL);
  g_autoptr (S2rRecipe) r = NULL;
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
  r = g_new0 (S2rRecipe, 1);
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
void
s2r_recipe_add_to (const S2rRecipe * r, GstBin * bin, GPtrArray * elements)
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
GstElement *
s2r_recipe_instantiate (const S2rRecipe * r)
{
  GstElement *bin = gst_bin_new (NULL);

  s2r_recipe_add_to (r, GST_BIN (bin), NULL);
  return bin;
}
