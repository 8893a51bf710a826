/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Points in the code where two threads can meet, for tests that must put
 * them into the same window on purpose (the lock-order regression tests).
 * Only the test build of the plugin (SIP2RTMP_TEST_HOOKS, built into
 * <builddir>/tests/testhooks/) has them; elsewhere they are nothing. */

#ifndef __GST_SIP_TEST_HOOK_H__
#define __GST_SIP_TEST_HOOK_H__

#include <glib.h>

G_BEGIN_DECLS

#ifdef SIP2RTMP_TEST_HOOKS
void gst_sip_test_hook (const gchar * name);
#define GST_SIP_TEST_HOOK(name) gst_sip_test_hook (name)
#else
#define GST_SIP_TEST_HOOK(name) G_STMT_START { } G_STMT_END
#endif

G_END_DECLS

#endif
