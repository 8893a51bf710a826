/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-console.h"
#include "s2r-error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define PREFIX "/console/"
/* a console is a handful of small files: more is a wrong directory */
#define MAX_FILES 64
#define MAX_FILE_SIZE (1024 * 1024)

/* The page runs only its own files: no inline script or style, no other
 * origin, not framed (an injected string can neither run nor be clicked
 * through an invisible frame) */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
  "img-src 'self' data:; connect-src 'self'; base-uri 'none'; " \
  "form-action 'none'; frame-ancestors 'none'"

struct _S2rConsole
{
  GHashTable *files;            /* name -> ConsoleFile */
};

typedef struct
{
  GBytes *data;
  const char *content_type;
} ConsoleFile;

static const struct
{
  const char *suffix;
  const char *content_type;
} content_types[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".mjs", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
  {".ico", "image/x-icon"},
  {".json", "application/json"},
  {".webmanifest", "application/manifest+json"},
  {".txt", "text/plain; charset=utf-8"},
};

static void
console_file_free (ConsoleFile * f)
{
  g_bytes_unref (f->data);
  g_free (f);
}

static const char *
content_type_for (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (content_types); i++)
    if (g_str_has_suffix (name, content_types[i].suffix))
      return content_types[i].content_type;
  return NULL;
}

/* A-Z a-z 0-9 - _ . , not starting with a dot: no hidden file, no "..",
 * nothing a URL needs escaped */
static gboolean
name_is_servable (const char *name)
{
  if (name[0] == '\0' || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return content_type_for (name) != NULL;
}

static gboolean
load_file (S2rConsole * console, const char *dir, const char *name,
    GError ** error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  struct stat st;
  gsize len;
  ConsoleFile *f;

  /* regular files only: a symlink could point anywhere */
  if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return TRUE;
  if (st.st_size > MAX_FILE_SIZE) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INVALID,
        "[console] dir: %s is larger than %d bytes", path, MAX_FILE_SIZE);
    return FALSE;
  }
  if (g_hash_table_size (console->files) >= MAX_FILES) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INVALID,
        "[console] dir: %s has more than %d files", dir, MAX_FILES);
    return FALSE;
  }
  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  f = g_new0 (ConsoleFile, 1);
  f->data = g_bytes_new_take (g_steal_pointer (&contents), len);
  f->content_type = content_type_for (name);
  g_hash_table_replace (console->files, g_strdup (name), f);
  return TRUE;
}

S2rConsole *
s2r_console_new_from_dir (const char *dir, GError ** error)
{
  g_autoptr (S2rConsole) console = g_new0 (S2rConsole, 1);
  g_autoptr (GDir) d = NULL;
  const char *name;

  console->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) console_file_free);
  d = g_dir_open (dir, 0, error);
  if (d == NULL) {
    g_prefix_error (error, "[console] dir: ");
    return NULL;
  }
  while ((name = g_dir_read_name (d)))
    if (name_is_servable (name) && !load_file (console, dir, name, error))
      return NULL;
  if (!g_hash_table_contains (console->files, "index.html")) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INVALID,
        "[console] dir: %s has no index.html", dir);
    return NULL;
  }
  return g_steal_pointer (&console);
}

void
s2r_console_free (S2rConsole * console)
{
  if (console == NULL)
    return;
  if (console->files)
    g_hash_table_unref (console->files);
  g_free (console);
}

guint
s2r_console_get_n_files (S2rConsole * console)
{
  return g_hash_table_size (console->files);
}

static void
send_text (SoupServerMessage * msg, guint status, const char *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_COPY, text, strlen (text));
}

/**
 * s2r_console_serve:
 *
 * Answers @msg when @path is the console's: `/` or under `/console/`.
 * Returns FALSE, with @msg untouched, for any other path. No token is
 * asked: these files are the same for everyone and carry no data.
 */
gboolean
s2r_console_serve (S2rConsole * console, SoupServerMessage * msg,
    const char *path)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *name;
  ConsoleFile *f;

  if (strcmp (path, "/") == 0)
    name = "index.html";
  else if (g_str_has_prefix (path, PREFIX))
    name = path + strlen (PREFIX);
  else
    return FALSE;

  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (headers, "Allow", "GET, HEAD");
    send_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
    return TRUE;
  }
  /* the path is a key, never a file name: "../x", "a/b", "" or a hidden
   * file are simply not in the table */
  f = g_hash_table_lookup (console->files, name);
  if (f == NULL) {
    send_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
    return TRUE;
  }
  soup_message_headers_replace (headers, "Content-Security-Policy", CSP);
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  /* revalidated on each load: an upgraded package is seen at once */
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "Content-Type", f->content_type);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
      f->data);
  return TRUE;
}
