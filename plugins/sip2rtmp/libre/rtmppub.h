/**
 * @file rtmppub.h  The RTMP publisher behind rtmppubsink
 *
 * Every publisher of the process runs on the libre thread (runtime.h),
 * with libre's RTMP client. Other threads queue FLV tag bodies and never
 * block; events come back through the event handler, always called on
 * the SIP thread. runtime_init() must have succeeded.
 *
 * No libre and no GStreamer type appears in this header.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef RTMPPUB_H
#define RTMPPUB_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum rtmppub_state {
	RTMPPUB_CONNECTING = 0,
	RTMPPUB_PUBLISHING,
	RTMPPUB_RECONNECTING,
	RTMPPUB_FAILED,
};

struct rtmppub;

/** Called on the SIP thread. dropped_ms: media lost while not publishing */
typedef void (rtmppub_event_h)(enum rtmppub_state state, int err,
			       uint64_t dropped_ms, void *arg);

int  rtmppub_start(struct rtmppub **hp, const char *url,
		   uint32_t retry_budget_ms, rtmppub_event_h *eh, void *arg);
int  rtmppub_send(struct rtmppub *h, bool video, uint32_t ts,
		  const uint8_t *data, size_t len, bool config, bool keyframe);
void rtmppub_stop(struct rtmppub *h);
uint64_t rtmppub_dropped_ms(struct rtmppub *h);

#endif
