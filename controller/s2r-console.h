/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * S2rConsole:
 *
 * The operator console's static files (HTML, ES modules, CSS, images),
 * read once from one directory at start-up and served from memory: `/` is
 * its `index.html`, `/console/NAME` any other file of it. A URL path is
 * only ever a key of that table, never joined to a file name, so no path
 * reaches outside the directory (no `..`, no symlink followed at request
 * time), and a directory is never listed. The files hold no data: what the
 * console shows, it fetches from the API with the operator's token.
 */
typedef struct _S2rConsole S2rConsole;

S2rConsole *s2r_console_new_from_dir (const char *dir, GError ** error);
void s2r_console_free (S2rConsole * console);
guint s2r_console_get_n_files (S2rConsole * console);
gboolean s2r_console_serve (S2rConsole * console, SoupServerMessage * msg,
    const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rConsole, s2r_console_free);

G_END_DECLS
