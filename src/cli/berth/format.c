/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The value at PATH (".State.Status", "." the whole) in O. */
static json_object *lookup(json_object *o, const char *path, size_t len)
{
        size_t i = 0;

        while (i < len && path[i] == ' ')
                i++;
        while (len > i && path[len - 1] == ' ')
                len--;
        if (i >= len || path[i] != '.')
                return NULL;
        i++;
        while (i < len && o) {
                size_t j = i;
                _cleanup_free_ char *key = NULL;
                json_object *v = NULL;
                while (j < len && path[j] != '.')
                        j++;
                key = xstrndup(path + i, j - i);
                if (!json_object_object_get_ex(o, key, &v))
                        return NULL;
                o = v;
                i = j + 1;
        }
        return o;
}

static void print_value(json_object *v, bool json)
{
        if (json) {
                fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                      stdout);
        } else if (!v)
                fputs("<no value>", stdout);
        else if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
                fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                      stdout);
        else
                fputs(json_object_get_string(v), stdout);
}

int cli_format(json_object *o, const char *tmpl)
{
        const char *p = tmpl;

        while (*p) {
                const char *open = strstr(p, "{{"), *close;
                if (!open) {
                        fputs(p, stdout);
                        break;
                }
                fwrite(p, 1, (size_t) (open - p), stdout);
                close = strstr(open, "}}");
                if (!close)
                        return cli_usage("--format: unterminated {{ in `%s`", tmpl);
                open += 2;
                while (*open == ' ')
                        open++;
                if (strncmp(open, "json ", 5) == 0)
                        print_value(lookup(o, open + 5, (size_t) (close - open - 5)), true);
                else if (*open == '.')
                        print_value(lookup(o, open, (size_t) (close - open)), false);
                else
                        return cli_usage("--format: only {{.Field.Path}} and {{json .Field}} are supported");
                p = close + 2;
        }
        fputc('\n', stdout);
        return 0;
}

/* ---- tables: columns as wide as their widest cell, three spaces apart
 * (Docker's tabwriter); widths count UTF-8 characters ---- */

static size_t display_width(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

void cli_table_add(struct cli_table *t, ...)
{
        va_list ap;

        va_start(ap, t);
        t->cells = xrealloc(t->cells, (t->rows + 1) * t->cols * sizeof(char *));
        for (size_t i = 0; i < t->cols; i++) {
                const char *s = va_arg(ap, const char *);
                t->cells[t->rows * t->cols + i] = xstrdup(s ? s : "");
        }
        va_end(ap);
        t->rows++;
}

void cli_table_print(struct cli_table *t)
{
        size_t *w = xzalloc(t->cols * sizeof(size_t));

        for (size_t r = 0; r < t->rows; r++)
                for (size_t i = 0; i < t->cols; i++) {
                        size_t l = display_width(t->cells[r * t->cols + i]);
                        if (l > w[i])
                                w[i] = l;
                }
        for (size_t r = 0; r < t->rows; r++) {
                for (size_t i = 0; i < t->cols; i++) {
                        const char *s = t->cells[r * t->cols + i];
                        fputs(s, stdout);
                        if (i + 1 < t->cols)
                                for (size_t pad = display_width(s); pad < w[i] + 3; pad++)
                                        fputc(' ', stdout);
                        free(t->cells[r * t->cols + i]);
                }
                fputc('\n', stdout);
        }
        free(t->cells);
        free(w);
        t->cells = NULL;
        t->rows = 0;
}
