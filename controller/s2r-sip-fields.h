/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a client may send towards the SIP peer, checked before anything
 * reaches sipsrc (which checks the same, docs/sipsrc-contract.md): a 400
 * naming the field instead of a call that fails to start. */

#define S2R_DTMF_MAX 60
#define S2R_SIP_HEADERS_MAX 32
#define S2R_SIP_HEADER_VALUE_MAX 1024

gboolean s2r_dtmf_digits_are_valid (const char *digits);
gboolean s2r_dtmf_method_is_valid (const char *method);
gboolean s2r_sip_header_name_is_allowed (const char *name);
gboolean s2r_sip_header_value_is_valid (const char *value);

G_END_DECLS
