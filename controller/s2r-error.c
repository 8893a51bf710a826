/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s2r-error.h"

/* The field at fault travels with the error, so the API can name it
 * without parsing messages. */
typedef struct
{
  char *field;
} S2rErrorPrivate;

static void
s2r_error_private_init (S2rErrorPrivate * priv)
{
  priv->field = NULL;
}

static void
s2r_error_private_copy (const S2rErrorPrivate * src, S2rErrorPrivate * dest)
{
  dest->field = g_strdup (src->field);
}

static void
s2r_error_private_clear (S2rErrorPrivate * priv)
{
  g_clear_pointer (&priv->field, g_free);
}

G_DEFINE_EXTENDED_ERROR (S2rError, s2r_error);

void
s2r_set_error_field (GError ** error, S2rError code, const char *field,
    const char *format, ...)
{
  GError *err;
  va_list args;

  if (error == NULL)
    return;

  va_start (args, format);
  err = g_error_new_valist (S2R_ERROR, code, format, args);
  va_end (args);

  s2r_error_get_private (err)->field = g_strdup (field);
  g_propagate_error (error, err);
}

const char *
s2r_error_get_field (const GError * error)
{
  S2rErrorPrivate *priv = s2r_error_get_private (error);

  return priv ? priv->field : NULL;
}

guint
s2r_error_to_http_status (const GError * error)
{
  if (error->domain != S2R_ERROR)
    return 500;

  switch ((S2rError) error->code) {
    case S2R_ERROR_INVALID:
      return 400;
    case S2R_ERROR_UNAUTHORIZED:
      return 401;
    case S2R_ERROR_NOT_FOUND:
      return 404;
    case S2R_ERROR_METHOD:
      return 405;
    case S2R_ERROR_CONFLICT:
      return 409;
    case S2R_ERROR_TOO_LARGE:
      return 413;
    case S2R_ERROR_TIMEOUT:
      return 408;
    case S2R_ERROR_UNAVAILABLE:
      return 503;
    case S2R_ERROR_INTERNAL:
      break;
  }
  return 500;
}

const char *
s2r_error_code_name (const GError * error)
{
  if (error->domain != S2R_ERROR)
    return "internal";

  switch ((S2rError) error->code) {
    case S2R_ERROR_INVALID:
      return "invalid";
    case S2R_ERROR_UNAUTHORIZED:
      return "unauthorized";
    case S2R_ERROR_NOT_FOUND:
      return "not-found";
    case S2R_ERROR_METHOD:
      return "method-not-allowed";
    case S2R_ERROR_CONFLICT:
      return "conflict";
    case S2R_ERROR_TOO_LARGE:
      return "too-large";
    case S2R_ERROR_TIMEOUT:
      return "timeout";
    case S2R_ERROR_UNAVAILABLE:
      return "unavailable";
    case S2R_ERROR_INTERNAL:
      break;
  }
  return "internal";
}
