/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * S2rError:
 *
 * Errors of the controller. Each maps to one HTTP status through
 * s2r_error_to_http_status(); an error may name the request field at fault.
 */
typedef enum
{
  S2R_ERROR_INVALID,            /* 400: bad JSON, missing or malformed field */
  S2R_ERROR_UNAUTHORIZED,       /* 401 */
  S2R_ERROR_NOT_FOUND,          /* 404 */
  S2R_ERROR_METHOD,             /* 405 */
  S2R_ERROR_CONFLICT,           /* 409 */
  S2R_ERROR_TOO_LARGE,          /* 413 */
  S2R_ERROR_TIMEOUT,            /* 408: the request did not arrive in time */
  S2R_ERROR_UNAVAILABLE,        /* 503: maximum of calls reached */
  S2R_ERROR_INTERNAL,           /* 500 */
} S2rError;

#define S2R_ERROR (s2r_error_quark ())
GQuark s2r_error_quark (void);

void s2r_set_error_field (GError ** error, S2rError code, const char *field,
    const char *format, ...) G_GNUC_PRINTF (4, 5);

const char *s2r_error_get_field (const GError * error);

guint s2r_error_to_http_status (const GError * error);

const char *s2r_error_code_name (const GError * error);

G_END_DECLS
