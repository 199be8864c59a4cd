/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI distribution (registry v2) client over libcurl's easy API.
 *
 * One CURL handle per struct registry, reset before each request (which
 * keeps its connection cache, so requests reuse connections).  Redirects
 * are followed here, not by curl: we decide per hop whether our
 * Authorization goes along (only to the origin it is meant for), and a
 * hop from https down to http is refused unless the registry is insecure. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/manifest.h" /* the MT_ constants only */
#include "image/registry.h"

#define MANIFEST_MAX ((size_t) 4 << 20) /* what registries accept too */
#define TOKEN_MAX ((size_t) 1 << 20)
#define ERRBODY_MAX ((size_t) 64 << 10)
#define MESSAGE_MAX 512
#define REDIRECTS_MAX 5
#define RETRIES_DEFAULT 3
#define RETRY_MS_DEFAULT 100
#define RETRY_MS_CAP 10000
#define CONNECT_TIMEOUT_MS 30000L
#define STALL_SECONDS 60L

#define ACCEPT_MANIFESTS MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

struct token {
        char *repo; /* "" for requests outside a repository (/v2/) */
        char *value;
};

struct registry {
        CURL *curl;
        char *domain; /* as given: messages, auth file key */
        char *base;   /* "https://registry-1.docker.io" */
        char *user, *pass;
        char *ca_file;
        char *user_agent;
        bool insecure;
        bool basic; /* the registry asked for basic auth: send it up front */
        int retries;
        unsigned retry_ms;
        struct token *tokens;
        size_t n_tokens;
        char errbuf[CURL_ERROR_SIZE];
};

struct buf {
        char *data;
        size_t len, cap, max;
};

/* One request, followed through redirects and retried as a whole. */
struct req {
        const char *method; /* GET HEAD POST PUT PATCH DELETE */
        const char *url;
        const char *repo; /* token cache key, NULL outside a repository */
        const char *what; /* names the object in messages */
        const char *accept, *content_type, *range, *content_range;
        /* request body (PUT, PATCH): BODY, or IN_FD from IN_OFF; IN_LEN bytes */
        const char *body;
        int in_fd;
        uint64_t in_off, in_len;
        /* a 2xx body goes to OUT (up to out->max) or is written to OUT_FD
         * (up to FD_MAX bytes in the file), anything else to ERRBODY */
        struct buf *out;
        int out_fd;
        uint64_t fd_pos, fd_max;
        int (*body_start)(struct req *q); /* at the first byte of a 2xx body */
        void *start_data;
        /* auth: a token request sends basic credentials to the realm's
         * origin only and never answers a challenge */
        bool token_request;
        const char *auth_origin;
        const char *bearer;
        bool send_basic;
        registry_progress_fn progress;
        void *userdata;
        uint64_t progress_base, progress_total;
        /* state */
        uint64_t sent;
        bool started;
        int sink_errno;
        const char *sink_why;
        CURLcode fail_code;
        long os_errno;
        /* the answer */
        long status;
        char *location, *mime, *www_auth, *content_range_resp, *range_resp, *docker_digest;
        struct buf errbody;
        char *final_url; /* after redirects: what Location is relative to */
};

static bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_lower_or_digit(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z');
}

/* Repository names go into URLs as they are: lower case, digits, . _ - and
 * '/' between non-empty components, none of them "." or "..". */
static bool repo_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0, comp = 0;

        if (n == 0 || n > 255)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '/') {
                        if (comp == 0 || (comp == 1 && s[i - 1] == '.') ||
                            (comp == 2 && s[i - 1] == '.' && s[i - 2] == '.'))
                                return false;
                        comp = 0;
                        continue;
                }
                if (!is_lower_or_digit(s[i]) && !strchr("._-", s[i]))
                        return false;
                comp++;
        }
        return true;
}

static bool tag_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 128 || !(is_alnum(s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static bool domain_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 255)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && !strchr(".-:[]", s[i]))
                        return false;
        return true;
}

/* Docker's rule: plain http for the loopback registry. */
static bool domain_is_local(const char *d)
{
        size_t n;

        if (startswith(d, "[::1]"))
                return d[5] == '\0' || d[5] == ':';
        n = strcspn(d, ":");
        if (n == strlen("localhost") && strncasecmp(d, "localhost", n) == 0)
                return true;
        if (!startswith(d, "127."))
                return false;
        for (size_t i = 4; i < n; i++)
                if (!strchr("0123456789.", d[i]))
                        return false;
        return true;
}

static void buf_clear(struct buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

static int buf_append(struct buf *b, const char *p, size_t n)
{
        if (n > b->max - b->len)
                return -EFBIG;
        if (b->len + n + 1 > b->cap) {
                b->cap = b->len + n + 1 > 2 * b->cap ? b->len + n + 1 : 2 * b->cap;
                b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

static void curl_slist_freep(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

static void curl_freep(char **s)
{
        curl_free(*s);
}

static void req_reset_answer(struct req *q)
{
        q->status = 0;
        free(q->location);
        free(q->mime);
        free(q->www_auth);
        free(q->content_range_resp);
        free(q->range_resp);
        free(q->docker_digest);
        q->location = q->mime = q->www_auth = q->content_range_resp = q->range_resp = q->docker_digest = NULL;
        q->errbody.len = 0;
        if (q->errbody.data)
                q->errbody.data[0] = '\0';
}

static void req_done(struct req *q)
{
        req_reset_answer(q);
        buf_clear(&q->errbody);
        free(q->final_url);
        q->final_url = NULL;
}

/* Resolve REL (absolute, "/path?query" or relative) against BASE; NULL
 * when either does not parse or the result is not http(s). */
static char *url_resolve(const char *base, const char *rel)
{
        _cleanup_(curl_freep) char *s = NULL, *scheme = NULL;
        CURLU *u = curl_url();
        bool good;

        if (!u)
                oom();
        good = curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
               curl_url_set(u, CURLUPART_URL, rel, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
               (streq(scheme, "http") || streq(scheme, "https"));
        curl_url_cleanup(u);
        return good ? xstrdup(s) : NULL;
}

/* "scheme://host:port" with the default port filled in, lower case; NULL
 * when URL does not parse. */
static char *url_origin(const char *url)
{
        _cleanup_(curl_freep) char *scheme = NULL, *host = NULL, *port = NULL;
        CURLU *u = curl_url();
        char *ret = NULL;

        if (!u)
                oom();
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                ret = xasprintf("%s://%s:%s", scheme, host, port);
                for (char *p = ret; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p += 'a' - 'A';
        }
        curl_url_cleanup(u);
        return ret;
}

static bool same_origin(const char *a, const char *b)
{
        _cleanup_free_ char *oa = url_origin(a), *ob = url_origin(b);

        return oa && ob && streq(oa, ob);
}

/* Append KEY=VALUE to URL's query (VALUE must need no escaping). */
static char *url_add_query(const char *url, const char *key, const char *value)
{
        return xasprintf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', key, value);
}

/* Registry messages end up on a terminal: no control characters. */
static void append_message(struct buf *b, const char *m)
{
        size_t start = b->len;

        if (b->data && strstr(b->data, m))
                return; /* one message per blob a manifest lacks is too many */
        if (b->len > 0)
                (void) buf_append(b, "; ", 2);
        (void) buf_append(b, m, strlen(m));
        for (size_t i = start; i < b->len; i++)
                if ((unsigned char) b->data[i] < 0x20 || b->data[i] == 0x7f)
                        b->data[i] = '?';
}

/* The messages of a distribution error body, {"errors": [{"code":
 * "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}, joined; NULL when
 * the body is something else.  A DIGEST_INVALID or SIZE_INVALID code
 * makes *CODE EBADMSG. */
static char *errors_message(const struct buf *body, int *code)
{
        struct json_object *root, *errors;
        struct buf m = { .max = MESSAGE_MAX };

        if (body->len == 0)
                return NULL;
        root = json_tokener_parse(body->data);
        if (!root)
                return NULL;
        if (json_object_object_get_ex(root, "errors", &errors) && json_object_is_type(errors, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(errors); i++) {
                        struct json_object *e = json_object_array_get_idx(errors, i), *v;
                        const char *c = NULL;

                        if (json_object_object_get_ex(e, "code", &v) && json_object_is_type(v, json_type_string))
                                c = json_object_get_string(v);
                        if (c && (streq(c, "DIGEST_INVALID") || streq(c, "SIZE_INVALID")))
                                *code = EBADMSG;
                        if (json_object_object_get_ex(e, "message", &v) && json_object_is_type(v, json_type_string) &&
                            json_object_get_string_len(v) > 0)
                                append_message(&m, json_object_get_string(v));
                        else if (c)
                                append_message(&m, c);
                }
        }
        json_object_put(root);
        return m.data;
}

static int status_errno(long status)
{
        switch (status) {
        case 400:
                return EINVAL;
        case 401:
        case 403:
                return EACCES;
        case 404:
                return ENOENT;
        case 405:
                return EOPNOTSUPP;
        case 413:
                return EFBIG;
        case 416:
                return ERANGE;
        case 429:
                return EAGAIN;
        default:
                return status >= 500 && status < 600 ? EIO : EPROTO;
        }
}

static const char *status_reason(long status)
{
        switch (status) {
        case 400: return "bad request";
        case 401: return "unauthorized";
        case 403: return "denied";
        case 404: return "not found";
        case 405: return "not supported by the registry";
        case 416: return "range not satisfiable";
        case 429: return "too many requests";
        case 500: return "internal server error";
        case 502: return "bad gateway";
        case 503: return "service unavailable";
        case 504: return "gateway timeout";
        default: return "unexpected answer";
        }
}

/* The error for an answer the caller did not expect: the registry's own
 * message when it sent one ("localhost:5000/x:latest: manifest unknown"). */
static int status_error(const struct req *q, struct error *err)
{
        int code = status_errno(q->status);
        _cleanup_free_ char *msg = errors_message(&q->errbody, &code);

        /* a token that lacks what the request needs: say so, with the scope
         * the registry asked for ("authentication required" after a good
         * login reads like a wrong password) */
        if (q->status == 401 && q->www_auth && strcasestr(q->www_auth, "error=\"insufficient_scope\"")) {
                _cleanup_(registry_challenge_clear) struct registry_challenge c = {};

                if (registry_challenge_parse(q->www_auth, &c) >= 0 && c.scope)
                        return error_setx(err, EACCES, "%s: access denied: the credentials do not grant %s", q->what,
                                          c.scope);
        }

        if (msg)
                return error_setx(err, code, "%s: %s", q->what, msg);
        return error_setx(err, code, "%s: %s (HTTP %ld)", q->what, status_reason(q->status), q->status);
}

static bool status_retriable(long status)
{
        return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Failures before the registry saw the request, or of a connection that
 * broke: worth another try. */
static bool transport_retriable(CURLcode c)
{
        switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static int transport_error(struct registry *r, const struct req *q, const char *url, struct error *err)
{
        const char *detail = r->errbuf[0] ? r->errbuf : curl_easy_strerror(q->fail_code);

        switch (q->fail_code) {
        case CURLE_COULDNT_CONNECT:
                return error_set(err, q->os_errno > 0 ? (int) q->os_errno : ECONNREFUSED, "connect to `%s`", url);
        case CURLE_COULDNT_RESOLVE_HOST:
                return error_setx(err, EHOSTUNREACH, "resolve the host of `%s`: %s", url, detail);
        case CURLE_OPERATION_TIMEDOUT:
                return error_setx(err, ETIMEDOUT, "%s `%s`: %s", q->method, url, detail);
        case CURLE_UNSUPPORTED_PROTOCOL:
                return error_setx(err, EPROTONOSUPPORT, "%s `%s`: %s", q->method, url, detail);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return error_setx(err, EPROTO, "tls with `%s`: %s", url, detail);
        case CURLE_WRITE_ERROR:
        case CURLE_READ_ERROR:
        case CURLE_ABORTED_BY_CALLBACK:
                if (q->sink_errno)
                        return error_setx(err, q->sink_errno, "%s: %s `%s`: %s", q->what, q->method, url,
                                          q->sink_why ? q->sink_why : strerror(q->sink_errno));
                break;
        default:
                break;
        }
        return error_setx(err, EIO, "%s: %s `%s`: %s", q->what, q->method, url, detail);
}

/* Header lines of one answer (and of interim ones: a status line starts
 * over). */
static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
        struct req *q = userdata;
        size_t len = size * n, name_len;
        _cleanup_free_ char *line = xstrndup(p, len);
        char *value, **slot = NULL;

        line[strcspn(line, "\r\n")] = '\0';
        if (startswith(line, "HTTP/")) {
                const char *s = line + strcspn(line, " ");
                req_reset_answer(q);
                q->status = strtol(s, NULL, 10);
                return len;
        }
        value = strchr(line, ':');
        if (!value)
                return len;
        name_len = value - line;
        value += 1 + strspn(value + 1, " \t");
        if (name_len == 8 && strncasecmp(line, "location", 8) == 0)
                slot = &q->location;
        else if (name_len == 12 && strncasecmp(line, "content-type", 12) == 0)
                slot = &q->mime;
        else if (name_len == 13 && strncasecmp(line, "content-range", 13) == 0)
                slot = &q->content_range_resp;
        else if (name_len == 5 && strncasecmp(line, "range", 5) == 0)
                slot = &q->range_resp;
        else if (name_len == 21 && strncasecmp(line, "docker-content-digest", 21) == 0)
                slot = &q->docker_digest;
        else if (name_len == 16 && strncasecmp(line, "www-authenticate", 16) == 0) {
                /* several challenges: prefer Bearer */
                if (q->www_auth && strncasecmp(q->www_auth, "bearer", 6) == 0)
                        return len;
                slot = &q->www_auth;
        }
        if (slot) {
                free(*slot);
                *slot = xstrdup(value);
        }
        return len;
}

static bool status_ok(long status)
{
        return status >= 200 && status < 300;
}

static size_t on_write(char *p, size_t size, size_t n, void *userdata)
{
        struct req *q = userdata;
        size_t len = size * n;
        int r;

        if (!status_ok(q->status) || (!q->out && q->out_fd < 0)) {
                /* only the start of an error body is of interest */
                size_t room = q->errbody.max - q->errbody.len;
                (void) buf_append(&q->errbody, p, len < room ? len : room);
                return len;
        }
        if (!q->started) {
                q->started = true;
                if (q->body_start && q->body_start(q) < 0)
                        return 0;
        }
        if (q->out) {
                if (buf_append(q->out, p, len) < 0) {
                        q->sink_errno = EFBIG;
                        q->sink_why = "answer too large";
                        return 0;
                }
                return len;
        }
        if (len > q->fd_max - q->fd_pos) {
                q->sink_errno = EFBIG;
                q->sink_why = "blob larger than expected";
                return 0;
        }
        r = write_all(q->out_fd, p, len);
        if (r < 0) {
                q->sink_errno = -r;
                return 0;
        }
        q->fd_pos += len;
        return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *userdata)
{
        struct req *q = userdata;
        uint64_t left = q->in_len - q->sent;
        size_t want = size * n;
        ssize_t k;

        if (want > left)
                want = left;
        if (want == 0)
                return 0;
        if (q->body) {
                memcpy(p, q->body + q->sent, want);
                q->sent += want;
                return want;
        }
        k = RETRY_EINTR(pread(q->in_fd, p, want, (off_t) (q->in_off + q->sent)));
        if (k <= 0) {
                q->sink_errno = k < 0 ? errno : EIO;
                q->sink_why = k < 0 ? NULL : "blob file shorter than its size";
                return CURL_READFUNC_ABORT;
        }
        q->sent += k;
        return k;
}

/* curl rewinds an upload when a reused connection turns out dead. */
static int on_seek(void *userdata, curl_off_t offset, int origin)
{
        struct req *q = userdata;

        if (origin != SEEK_SET || offset < 0 || (uint64_t) offset > q->in_len)
                return CURL_SEEKFUNC_CANTSEEK;
        q->sent = offset;
        return CURL_SEEKFUNC_OK;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
        struct req *q = userdata;
        uint64_t done, total;

        if (q->body || q->in_fd >= 0) {
                done = q->progress_base + ulnow;
                total = q->progress_total ? q->progress_total : q->progress_base + ultotal;
        } else {
                if (!status_ok(q->status) || dlnow == 0)
                        return 0;
                done = q->progress_base + dlnow;
                total = q->progress_total ? q->progress_total : dltotal ? q->progress_base + dltotal : 0;
        }
        q->progress(done, total, q->userdata);
        return 0;
}

#define SETOPT(c, opt, val)                                      \
        do {                                                     \
                CURLcode _sc_ = curl_easy_setopt(c, opt, val);   \
                if (_sc_ != CURLE_OK)                            \
                        return _sc_;                             \
        } while (0)

static CURLcode set_common(struct registry *r, struct req *q, const char *url)
{
        CURL *c = r->curl;

        SETOPT(c, CURLOPT_URL, url);
        SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
        SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
        SETOPT(c, CURLOPT_NOSIGNAL, 1L);
        SETOPT(c, CURLOPT_ERRORBUFFER, r->errbuf);
        SETOPT(c, CURLOPT_USERAGENT, r->user_agent);
        SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        SETOPT(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        SETOPT(c, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
        SETOPT(c, CURLOPT_TCP_KEEPALIVE, 1L);
        SETOPT(c, CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(c, CURLOPT_HEADERDATA, q);
        SETOPT(c, CURLOPT_WRITEFUNCTION, on_write);
        SETOPT(c, CURLOPT_WRITEDATA, q);
        if (r->ca_file)
                SETOPT(c, CURLOPT_CAINFO, r->ca_file);
        if (r->insecure) {
                SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
                SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (q->progress) {
                SETOPT(c, CURLOPT_NOPROGRESS, 0L);
                SETOPT(c, CURLOPT_XFERINFOFUNCTION, on_progress);
                SETOPT(c, CURLOPT_XFERINFODATA, q);
        }
        return CURLE_OK;
}

static CURLcode set_method(struct registry *r, struct req *q)
{
        CURL *c = r->curl;

        if (streq(q->method, "HEAD")) {
                SETOPT(c, CURLOPT_NOBODY, 1L);
        } else if (streq(q->method, "POST")) {
                SETOPT(c, CURLOPT_POST, 1L);
                SETOPT(c, CURLOPT_POSTFIELDSIZE, 0L);
                SETOPT(c, CURLOPT_POSTFIELDS, "");
        } else if (streq(q->method, "PUT") || streq(q->method, "PATCH")) {
                SETOPT(c, CURLOPT_UPLOAD, 1L);
                SETOPT(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) q->in_len);
                SETOPT(c, CURLOPT_READFUNCTION, on_read);
                SETOPT(c, CURLOPT_READDATA, q);
                SETOPT(c, CURLOPT_SEEKFUNCTION, on_seek);
                SETOPT(c, CURLOPT_SEEKDATA, q);
                if (streq(q->method, "PATCH"))
                        SETOPT(c, CURLOPT_CUSTOMREQUEST, "PATCH");
        } else {
                SETOPT(c, CURLOPT_HTTPGET, 1L);
                if (!streq(q->method, "GET"))
                        SETOPT(c, CURLOPT_CUSTOMREQUEST, q->method);
        }
        return CURLE_OK;
}

static void header_add(struct curl_slist **l, const char *name, const char *value)
{
        _cleanup_free_ char *h = NULL;
        struct curl_slist *n;

        if (!value)
                return;
        h = xasprintf("%s: %s", name, value);
        n = curl_slist_append(*l, h);
        if (!n)
                oom();
        *l = n;
}

/* One request to URL, no redirects.  Credentials go only to the origin
 * they belong to: the registry's, or the token realm's. */
static CURLcode req_hop(struct registry *r, struct req *q, const char *url)
{
        _cleanup_(curl_slist_freep) struct curl_slist *h = NULL;
        _cleanup_free_ char *bearer = NULL;
        bool ours = q->auth_origin && same_origin(url, q->auth_origin);
        CURLcode c;

        req_reset_answer(q);
        q->sent = 0;
        q->started = false;
        q->sink_errno = 0;
        q->sink_why = NULL;
        if (q->out && q->out->data)
                q->out->data[q->out->len = 0] = '\0';
        curl_easy_reset(r->curl);
        r->errbuf[0] = '\0';
        header_add(&h, "Accept", q->accept);
        header_add(&h, "Content-Type", q->content_type);
        header_add(&h, "Range", q->range);
        header_add(&h, "Content-Range", q->content_range);
        if (ours && q->bearer) {
                bearer = xasprintf("Bearer %s", q->bearer);
                header_add(&h, "Authorization", bearer);
        }
        c = set_common(r, q, url);
        if (c == CURLE_OK)
                c = set_method(r, q);
        if (c == CURLE_OK && h)
                c = curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, h);
        if (c == CURLE_OK && ours && !q->bearer && q->send_basic) {
                (void) curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                (void) curl_easy_setopt(r->curl, CURLOPT_USERNAME, r->user);
                c = curl_easy_setopt(r->curl, CURLOPT_PASSWORD, r->pass);
        }
        if (c == CURLE_OK)
                c = curl_easy_perform(r->curl);
        q->os_errno = 0;
        if (c != CURLE_OK)
                (void) curl_easy_getinfo(r->curl, CURLINFO_OS_ERRNO, &q->os_errno);
        /* the handle must not keep pointers into Q or H */
        curl_easy_reset(r->curl);
        return c;
}

static bool is_redirect(long status)
{
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* One attempt: the request and the redirects of a GET or HEAD.  0 with
 * an answer in Q, > 0 a transport failure (q->fail_code, URL in
 * *RET_FAIL_URL), < 0 an error in ERR. */
static int req_perform(struct registry *r, struct req *q, char **ret_fail_url, struct error *err)
{
        _cleanup_free_ char *url = xstrdup(q->url);
        bool follow = streq(q->method, "GET") || streq(q->method, "HEAD");

        for (int hop = 0;; hop++) {
                char *next;

                q->fail_code = req_hop(r, q, url);
                /* An error body that breaks off still carries its status:
                 * docker-registry answers a range past the end with 416
                 * and the blob's Content-Length. */
                if ((q->fail_code == CURLE_PARTIAL_FILE || q->fail_code == CURLE_RECV_ERROR) && q->status >= 400)
                        q->fail_code = CURLE_OK;
                if (q->fail_code != CURLE_OK) {
                        *ret_fail_url = TAKE_PTR(url);
                        return 1;
                }
                if (!follow || !is_redirect(q->status) || !q->location)
                        break;
                if (hop >= REDIRECTS_MAX)
                        return error_setx(err, ELOOP, "%s: too many redirects from `%s`", q->what, q->url);
                next = url_resolve(url, q->location);
                if (!next)
                        return error_setx(err, EPROTO, "%s: bad redirect to `%s`", q->what, q->location);
                if (startswith(url, "https:") && startswith(next, "http:") && !r->insecure) {
                        free(next);
                        return error_setx(err, EPROTO, "%s: refusing a redirect from https to `%s`", q->what,
                                          q->location);
                }
                free(url);
                url = next;
        }
        free(q->final_url);
        q->final_url = TAKE_PTR(url);
        return 0;
}

static void backoff(struct registry *r, int attempt)
{
        uint64_t ms = r->retry_ms;
        struct timespec ts;

        for (int i = 0; i < attempt && ms < RETRY_MS_CAP; i++)
                ms *= 2;
        if (ms > RETRY_MS_CAP)
                ms = RETRY_MS_CAP;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long) (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static const char *token_find(const struct registry *r, const char *repo)
{
        for (size_t i = 0; i < r->n_tokens; i++)
                if (streq(r->tokens[i].repo, repo ? repo : ""))
                        return r->tokens[i].value;
        return NULL;
}

static void token_store(struct registry *r, const char *repo, char *value)
{
        for (size_t i = 0; i < r->n_tokens; i++)
                if (streq(r->tokens[i].repo, repo ? repo : "")) {
                        free(r->tokens[i].value);
                        r->tokens[i].value = value;
                        return;
                }
        r->tokens = xrealloc(r->tokens, (r->n_tokens + 1) * sizeof(*r->tokens));
        r->tokens[r->n_tokens++] = (struct token) { .repo = xstrdup(repo), .value = value };
}

static int req_run(struct registry *r, struct req *q, struct error *err);

/* Ask the realm of a Bearer challenge for a token, with our basic
 * credentials when we have them (not over plain http to a realm of an
 * https registry). */
static int token_fetch(struct registry *r, const struct registry_challenge *c, char **ret, struct error *err)
{
        _cleanup_free_ char *query = registry_token_query(c), *url = NULL, *what = NULL;
        struct buf body = { .max = TOKEN_MAX };
        struct req q = { .method = "GET", .token_request = true, .out = &body, .in_fd = -1, .out_fd = -1,
                         .errbody.max = ERRBODY_MAX };
        int k;

        if (!c->realm || !(startswith(c->realm, "https://") || startswith(c->realm, "http://")))
                return error_setx(err, EPROTO, "%s: bad token realm `%s`", r->domain, c->realm ? c->realm : "");
        url = xasprintf("%s%s%s", c->realm, *query ? (strchr(c->realm, '?') ? "&" : "?") : "", query);
        what = xasprintf("%s: token from `%s`", r->domain, c->realm);
        q.url = q.auth_origin = url;
        q.what = what;
        q.send_basic = r->user && (startswith(c->realm, "https://") || startswith(r->base, "http://"));
        k = req_run(r, &q, err);
        if (k >= 0 && q.status != 200)
                k = status_error(&q, err);
        if (k >= 0 && registry_token_parse(body.data ? body.data : "", body.len, ret) < 0)
                k = error_setx(err, EPROTO, "%s: no token in the answer", what);
        req_done(&q);
        buf_clear(&body);
        return k;
}

/* A 401: 1 when retrying makes sense (basic credentials to send, a new
 * token), 0 when not, < 0 on error. */
static int auth_challenge(struct registry *r, struct req *q, struct error *err)
{
        _cleanup_(registry_challenge_clear) struct registry_challenge c = {};
        char *token = NULL;
        int k;

        if (!q->www_auth || registry_challenge_parse(q->www_auth, &c) < 0)
                return 0;
        if (strcasecmp(c.scheme, "basic") == 0) {
                if (!r->user || r->basic)
                        return 0;
                r->basic = true;
                return 1;
        }
        if (strcasecmp(c.scheme, "bearer") != 0)
                return 0;
        k = token_fetch(r, &c, &token, err);
        if (k < 0)
                return k;
        token_store(r, q->repo, token);
        return 1;
}

static void req_auth_select(struct registry *r, struct req *q)
{
        if (q->token_request)
                return;
        q->auth_origin = r->base;
        q->bearer = token_find(r, q->repo);
        q->send_basic = r->basic && r->user;
}

/* Run Q: answer a 401 challenge once, retry transient failures with
 * exponential back-off.  0 with the final answer in Q (any status), or
 * an error. */
static int req_run(struct registry *r, struct req *q, struct error *err)
{
        bool auth_tried = q->token_request;

        for (int attempt = 0;;) {
                _cleanup_free_ char *fail_url = NULL;
                int k;

                req_auth_select(r, q);
                k = req_perform(r, q, &fail_url, err);
                if (k < 0)
                        return k;
                if (k > 0) {
                        if (!transport_retriable(q->fail_code) || (q->started && q->out_fd >= 0) ||
                            attempt >= r->retries)
                                return transport_error(r, q, fail_url, err);
                } else if (q->status == 401 && !auth_tried) {
                        auth_tried = true;
                        k = auth_challenge(r, q, err);
                        if (k < 0)
                                return k;
                        if (k > 0)
                                continue;
                        return 0;
                } else if (!status_retriable(q->status) || attempt >= r->retries)
                        return 0;
                backoff(r, attempt++);
        }
}

static void registry_freep(struct registry **r)
{
        registry_free(*r);
}

static void free_secret(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

void registry_free(struct registry *r)
{
        if (!r)
                return;
        if (r->curl) {
                curl_easy_cleanup(r->curl);
                curl_global_cleanup();
        }
        for (size_t i = 0; i < r->n_tokens; i++) {
                free(r->tokens[i].repo);
                free_secret(r->tokens[i].value);
        }
        free(r->tokens);
        free(r->domain);
        free(r->base);
        free(r->user);
        free_secret(r->pass);
        free(r->ca_file);
        free(r->user_agent);
        free(r);
}

static unsigned retry_ms_from_env(void)
{
        const char *e = getenv("BERTH_REGISTRY_RETRY_MS");
        uint64_t v;

        if (e && parse_uint64(e, &v) >= 0 && v <= RETRY_MS_CAP)
                return (unsigned) v;
        return RETRY_MS_DEFAULT;
}

static int registry_credentials(struct registry *r, const struct registry_opts *o, struct error *err)
{
        int k;

        if (o->username) {
                r->user = xstrdup(o->username);
                r->pass = xstrdup(o->password);
                return 0;
        }
        if (!o->auth_file)
                return 0;
        k = registry_auth_lookup(o->auth_file, o->domain, &r->user, &r->pass, err);
        return k < 0 ? k : 0;
}

int registry_new(const struct registry_opts *o, struct registry **ret, struct error *err)
{
        _cleanup_(registry_freep) struct registry *r = NULL;
        const char *host;
        int k;

        if (!o || !domain_valid(o->domain))
                return error_setx(err, EINVAL, "invalid registry domain `%s`", o && o->domain ? o->domain : "");
        r = xzalloc(sizeof(*r));
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return error_setx(err, EIO, "initialize libcurl");
        r->curl = curl_easy_init();
        if (!r->curl) {
                curl_global_cleanup();
                return error_setx(err, ENOMEM, "create a curl handle");
        }
        r->domain = xstrdup(o->domain);
        host = streq(o->domain, "docker.io") ? "registry-1.docker.io" : o->domain;
        r->insecure = o->insecure;
        r->base = xasprintf("%s://%s", o->insecure || domain_is_local(host) ? "http" : "https", host);
        r->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
        r->user_agent = o->user_agent ? xstrdup(o->user_agent) : xstrdup("berth/" BERTH_VERSION);
        r->retries = o->retries == 0 ? RETRIES_DEFAULT : o->retries < 0 ? 0 : o->retries;
        r->retry_ms = retry_ms_from_env();
        k = registry_credentials(r, o, err);
        if (k < 0)
                return error_prefix(err, "registry `%s`", o->domain);
        *ret = TAKE_PTR(r);
        return 0;
}

static int check_repo(const char *repo, struct error *err)
{
        if (!repo_valid(repo))
                return error_setx(err, EINVAL, "invalid repository name `%s`", repo ? repo : "");
        return 0;
}

static char *manifest_what(const struct registry *r, const char *repo, const char *ref)
{
        return xasprintf("%s/%s%c%s", r->domain, repo, digest_valid(ref) ? '@' : ':', ref);
}

/* The media type of a manifest: the Content-Type when it names a manifest
 * type, else the body's mediaType, else what its fields say. */
static char *manifest_media_type(const char *content_type, const char *body, size_t len)
{
        const char *known[] = { MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST, MT_DOCKER_LIST };
        _cleanup_free_ char *ct = content_type ? xstrndup(content_type, strcspn(content_type, "; \t")) : NULL;
        struct json_tokener *tok;
        struct json_object *root, *v;
        char *ret = NULL;

        for (size_t i = 0; ct && i < ELEMENTSOF(known); i++)
                if (streq(ct, known[i]))
                        return TAKE_PTR(ct);
        tok = json_tokener_new();
        if (!tok)
                oom();
        root = json_tokener_parse_ex(tok, body, (int) len);
        json_tokener_free(tok);
        if (json_object_object_get_ex(root, "mediaType", &v) && json_object_is_type(v, json_type_string))
                ret = xstrdup(json_object_get_string(v));
        else if (json_object_object_get_ex(root, "manifests", &v))
                ret = xstrdup(MT_OCI_INDEX);
        else if (json_object_object_get_ex(root, "config", &v))
                ret = xstrdup(MT_OCI_MANIFEST);
        json_object_put(root);
        if (!ret)
                ret = ct ? TAKE_PTR(ct) : xstrdup("application/octet-stream");
        return ret;
}

int registry_get_manifest(struct registry *r, const char *repo, const char *ref, char **ret_body,
                          size_t *ret_len, char **ret_media_type, char ret_digest[DIGEST_BUF_SIZE],
                          struct error *err)
{
        _cleanup_free_ char *url = NULL, *what = NULL;
        struct buf body = { .max = MANIFEST_MAX };
        struct req q = { .method = "GET", .repo = repo, .accept = ACCEPT_MANIFESTS, .out = &body, .in_fd = -1,
                         .out_fd = -1, .errbody.max = ERRBODY_MAX };
        char digest[DIGEST_BUF_SIZE];
        int k;

        if (check_repo(repo, err) < 0)
                return -EINVAL;
        if (!tag_valid(ref) && !digest_valid(ref))
                return error_setx(err, EINVAL, "invalid tag or digest `%s`", ref ? ref : "");
        url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
        what = manifest_what(r, repo, ref);
        q.url = url;
        q.what = what;
        k = req_run(r, &q, err);
        if (k >= 0 && q.status != 200)
                k = status_error(&q, err);
        if (k >= 0) {
                digest_buffer(body.data ? body.data : "", body.len, digest);
                if (digest_valid(ref) && !streq(digest, ref))
                        k = error_setx(err, EBADMSG, "%s: manifest digest mismatch (got %s)", what, digest);
        }
        if (k >= 0) {
                if (ret_media_type)
                        *ret_media_type = manifest_media_type(q.mime, body.data ? body.data : "", body.len);
                if (ret_len)
                        *ret_len = body.len;
                if (ret_digest)
                        memcpy(ret_digest, digest, DIGEST_BUF_SIZE);
                *ret_body = body.data ? TAKE_PTR(body.data) : xstrdup("");
        }
        buf_clear(&body);
        req_done(&q);
        return k < 0 ? k : 0;
}

int registry_put_manifest(struct registry *r, const char *repo, const char *ref, const char *media_type,
                          const char *body, size_t len, struct error *err)
{
        _cleanup_free_ char *url = NULL, *what = NULL;
        struct req q = { .method = "PUT", .repo = repo, .content_type = media_type, .body = body, .in_len = len,
                         .in_fd = -1, .out_fd = -1, .errbody.max = ERRBODY_MAX };
        char digest[DIGEST_BUF_SIZE];
        int k;

        if (check_repo(repo, err) < 0)
                return -EINVAL;
        if (!tag_valid(ref) && !digest_valid(ref))
                return error_setx(err, EINVAL, "invalid tag or digest `%s`", ref ? ref : "");
        if (!media_type || !*media_type || strpbrk(media_type, "\r\n"))
                return error_setx(err, EINVAL, "invalid media type for manifest `%s`", ref);
        what = manifest_what(r, repo, ref);
        digest_buffer(body, len, digest);
        if (digest_valid(ref) && !streq(digest, ref))
                return error_setx(err, EBADMSG, "%s: manifest digest mismatch (it is %s)", what, digest);
        url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
        q.url = url;
        q.what = what;
        k = req_run(r, &q, err);
        if (k >= 0 && !status_ok(q.status))
                k = status_error(&q, err);
        if (k >= 0 && q.docker_digest && digest_valid(q.docker_digest) && !streq(q.docker_digest, digest))
                k = error_setx(err, EBADMSG, "%s: the registry stored digest %s, expected %s", what, q.docker_digest,
                               digest);
        req_done(&q);
        return k < 0 ? k : 0;
}

int registry_blob_exists(struct registry *r, const char *repo, const char *digest, struct error *err)
{
        _cleanup_free_ char *url = NULL, *what = NULL;
        struct req q = { .method = "HEAD", .repo = repo, .in_fd = -1, .out_fd = -1, .errbody.max = ERRBODY_MAX };
        int k;

        if (check_repo(repo, err) < 0)
                return -EINVAL;
        if (!digest_valid(digest))
                return error_setx(err, EINVAL, "invalid digest `%s`", digest ? digest : "");
        url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, digest);
        what = xasprintf("%s/%s@%s", r->domain, repo, digest);
        q.url = url;
        q.what = what;
        k = req_run(r, &q, err);
        if (k >= 0)
                k = q.status == 200 ? 1 : q.status == 404 ? 0 : status_error(&q, err);
        req_done(&q);
        return k;
}

int registry_login_check(struct registry *r, struct error *err)
{
        _cleanup_free_ char *url = xasprintf("%s/v2/", r->base);
        struct req q = { .method = "GET", .url = url, .what = r->domain, .in_fd = -1, .out_fd = -1,
                         .errbody.max = ERRBODY_MAX };
        int k;

        k = req_run(r, &q, err);
        if (k >= 0 && q.status != 200)
                k = status_error(&q, err);
        req_done(&q);
        return k < 0 ? k : 0;
}

/* ---- blob download ---- */

struct blob_get {
        int fd;
        uint64_t offset; /* bytes the file held when the request went out */
};

/* "bytes N-M/T": N */
static int content_range_start(const char *s, uint64_t *ret)
{
        _cleanup_free_ char *n = NULL;

        if (!s || strncasecmp(s, "bytes ", 6) != 0)
                return -EINVAL;
        s += 6;
        n = xstrndup(s, strcspn(s, "-"));
        return parse_uint64(n, ret);
}

/* The first byte of a 2xx body: a 206 must continue where the file ends,
 * a 200 is the whole blob (the registry ignored the range), so the file
 * starts over. */
static int blob_body_start(struct req *q)
{
        struct blob_get *b = q->start_data;
        uint64_t start;

        if (q->status == 206) {
                if (content_range_start(q->content_range_resp, &start) < 0 || start != b->offset) {
                        q->sink_errno = EPROTO;
                        q->sink_why = "the registry answered another range";
                        return -1;
                }
                return 0;
        }
        if (b->offset > 0) {
                if (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0) {
                        q->sink_errno = errno;
                        return -1;
                }
                b->offset = 0;
                q->fd_pos = 0;
                q->progress_base = 0;
        }
        return 0;
}

static void error_move(struct error *to, struct error *from)
{
        if (to && !to->msg)
                *to = *from;
        else
                error_clear(from);
        *from = (struct error) ERROR_INIT;
}

/* Where the file ends, after dropping what cannot be a prefix of the blob. */
static int blob_file_offset(int fd, int64_t expected, const char *what, uint64_t *ret, struct error *err)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "%s: stat the download file", what);
        if (expected >= 0 && st.st_size > expected) {
                if (ftruncate(fd, 0) < 0)
                        return error_set(err, errno, "%s: truncate the download file", what);
                st.st_size = 0;
        }
        if (lseek(fd, 0, SEEK_END) < 0)
                return error_set(err, errno, "%s: seek in the download file", what);
        *ret = st.st_size;
        return 0;
}

struct blob_args {
        const char *url, *what, *repo;
        int fd;
        int64_t expected;
        registry_progress_fn progress;
        void *userdata;
};

/* One GET of what the file lacks.  0 when the file may hold the blob now
 * (the caller verifies), 1 when the transfer broke off after some bytes
 * (ERR set; resume), < 0 on error. */
static int blob_get_once(struct registry *r, const struct blob_args *a, struct error *err)
{
        _cleanup_free_ char *range = NULL;
        struct blob_get b = { .fd = a->fd };
        struct req q = { .method = "GET", .url = a->url, .repo = a->repo, .what = a->what, .in_fd = -1,
                         .out_fd = a->fd, .fd_max = a->expected >= 0 ? (uint64_t) a->expected : UINT64_MAX,
                         .body_start = blob_body_start, .start_data = &b, .progress = a->progress,
                         .userdata = a->userdata, .errbody.max = ERRBODY_MAX };
        int k;

        k = blob_file_offset(a->fd, a->expected, a->what, &b.offset, err);
        if (k < 0)
                return k;
        if (a->expected >= 0 && b.offset == (uint64_t) a->expected)
                return 0;
        if (b.offset > 0)
                range = xasprintf("bytes=%" PRIu64 "-", b.offset);
        q.range = range;
        q.fd_pos = q.progress_base = b.offset;
        q.progress_total = a->expected > 0 ? (uint64_t) a->expected : 0;
        k = req_run(r, &q, err);
        if (k < 0 && q.started && transport_retriable(q.fail_code))
                k = 1;
        else if (k >= 0 && q.status == 200 && !q.started && blob_body_start(&q) < 0)
                k = error_set(err, q.sink_errno, "%s: truncate the download file", a->what);
        else if (k >= 0 && q.status != 200 && q.status != 206 && !(q.status == 416 && b.offset > 0))
                k = status_error(&q, err);
        req_done(&q);
        return k;
}

static int blob_verify(int fd, const char *digest, int64_t expected, const char *what, struct error *err)
{
        char got[DIGEST_BUF_SIZE];
        uint64_t size;
        int k;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return error_set(err, errno, "%s: seek in the download file", what);
        k = digest_fd(fd, got, &size);
        if (k < 0)
                return error_set(err, -k, "%s: read the download file", what);
        if ((expected >= 0 && size != (uint64_t) expected) || !streq(got, digest)) {
                if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                        return error_set(err, errno, "%s: truncate the download file", what);
                if (expected >= 0 && size != (uint64_t) expected)
                        return error_setx(err, EBADMSG, "%s: size mismatch: got %" PRIu64 " bytes, expected %" PRId64,
                                          what, size, expected);
                return error_setx(err, EBADMSG, "%s: digest mismatch (got %s)", what, got);
        }
        return 0;
}

int registry_get_blob(struct registry *r, const char *repo, const char *digest, int64_t expected_size, int out_fd,
                      registry_progress_fn progress, void *userdata, struct error *err)
{
        _cleanup_free_ char *url = NULL, *what = NULL;
        struct blob_args a = { .repo = repo, .fd = out_fd, .expected = expected_size < 0 ? -1 : expected_size,
                               .progress = progress, .userdata = userdata };
        int k;

        if (check_repo(repo, err) < 0)
                return -EINVAL;
        if (!digest_valid(digest))
                return error_setx(err, EINVAL, "invalid digest `%s`", digest ? digest : "");
        if (out_fd < 0)
                return error_setx(err, EBADF, "no file to download blob `%s` into", digest);
        url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, digest);
        what = xasprintf("%s/%s@%s", r->domain, repo, digest);
        a.url = url;
        a.what = what;
        for (int attempt = 0;; attempt++) {
                struct error e = ERROR_INIT;

                k = blob_get_once(r, &a, &e);
                if (k == 1 && attempt < r->retries) {
                        error_clear(&e);
                        backoff(r, attempt);
                        continue;
                }
                error_move(err, &e);
                if (k != 0)
                        return k < 0 ? k : -EIO;
                return blob_verify(out_fd, digest, a.expected, what, err);
        }
}

/* ---- blob upload ---- */

struct upload {
        struct registry *r;
        const char *repo, *what, *digest;
        int in_fd;
        uint64_t size;
        char *location; /* where the upload continues */
        registry_progress_fn progress;
        void *userdata;
};

/* Take the Location of an upload answer, resolved against its request. */
static int upload_take_location(struct upload *u, struct req *q, bool required, struct error *err)
{
        char *next;

        if (!q->location)
                return required ? error_setx(err, EPROTO, "%s: upload answer without a location", u->what) : 0;
        next = url_resolve(q->final_url ? q->final_url : q->url, q->location);
        if (!next)
                return error_setx(err, EPROTO, "%s: bad upload location `%s`", u->what, q->location);
        free(u->location);
        u->location = next;
        return 0;
}

/* POST: start an upload, or mount the blob from FROM_REPO.  1 when it was
 * mounted, 0 when the upload goes on at u->location. */
static int upload_start(struct upload *u, const char *from_repo, struct error *err)
{
        _cleanup_free_ char *url = NULL;
        struct req q = { .method = "POST", .repo = u->repo, .what = u->what, .in_fd = -1, .out_fd = -1,
                         .errbody.max = ERRBODY_MAX };
        int k;

        if (from_repo)
                url = xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", u->r->base, u->repo, u->digest,
                                from_repo);
        else
                url = xasprintf("%s/v2/%s/blobs/uploads/", u->r->base, u->repo);
        q.url = url;
        k = req_run(u->r, &q, err);
        if (k >= 0 && from_repo && q.status == 201)
                k = 1;
        else if (k >= 0 && q.status == 202)
                k = upload_take_location(u, &q, true, err);
        else if (k >= 0)
                k = status_error(&q, err);
        req_done(&q);
        return k;
}

/* PATCH one chunk, OFF..OFF+LEN-1; the registry must then hold OFF+LEN
 * bytes. */
static int upload_patch(struct upload *u, uint64_t off, uint64_t len, struct error *err)
{
        _cleanup_free_ char *range = xasprintf("%" PRIu64 "-%" PRIu64, off, off + len - 1);
        struct req q = { .method = "PATCH", .url = u->location, .repo = u->repo, .what = u->what,
                         .content_type = "application/octet-stream", .content_range = range, .in_fd = u->in_fd,
                         .in_off = off, .in_len = len, .out_fd = -1, .progress = u->progress,
                         .userdata = u->userdata, .progress_base = off, .progress_total = u->size,
                         .errbody.max = ERRBODY_MAX };
        const char *end;
        uint64_t have;
        int k;

        k = req_run(u->r, &q, err);
        if (k >= 0 && q.status != 202)
                k = status_error(&q, err);
        if (k >= 0 && q.range_resp) {
                end = strchr(q.range_resp, '-');
                if (!end || parse_uint64(end + 1, &have) < 0 || have + 1 != off + len)
                        k = error_setx(err, EPROTO, "%s: the registry holds range `%s` after sending up to %" PRIu64,
                                       u->what, q.range_resp, off + len);
        }
        if (k >= 0)
                k = upload_take_location(u, &q, false, err);
        req_done(&q);
        return k;
}

/* PUT LOCATION?digest=D, with the bytes from OFF on (none after chunks). */
static int upload_finish(struct upload *u, uint64_t off, struct error *err)
{
        _cleanup_free_ char *url = url_add_query(u->location, "digest", u->digest);
        struct req q = { .method = "PUT", .url = url, .repo = u->repo, .what = u->what,
                         .content_type = "application/octet-stream", .in_fd = u->in_fd, .in_off = off,
                         .in_len = u->size - off, .out_fd = -1, .progress = u->progress, .userdata = u->userdata,
                         .progress_base = off, .progress_total = u->size, .errbody.max = ERRBODY_MAX };
        int k;

        k = req_run(u->r, &q, err);
        if (k >= 0 && q.status != 201 && q.status != 204)
                k = status_error(&q, err);
        if (k >= 0 && q.docker_digest && digest_valid(q.docker_digest) && !streq(q.docker_digest, u->digest))
                k = error_setx(err, EBADMSG, "%s: the registry stored digest %s", u->what, q.docker_digest);
        req_done(&q);
        return k < 0 ? k : 0;
}

/* Best effort: a failed upload need not wait for the registry's clean-up. */
static void upload_cancel(struct upload *u)
{
        struct req q = { .method = "DELETE", .url = u->location, .repo = u->repo, .what = u->what, .in_fd = -1,
                         .out_fd = -1, .errbody.max = ERRBODY_MAX };
        int saved = u->r->retries;

        u->r->retries = 0;
        (void) req_run(u->r, &q, NULL);
        u->r->retries = saved;
        req_done(&q);
}

static int upload_body(struct upload *u, uint64_t chunk, struct error *err)
{
        int k;

        if (chunk == 0)
                return upload_finish(u, 0, err);
        for (uint64_t off = 0; off < u->size; off += chunk) {
                k = upload_patch(u, off, u->size - off < chunk ? u->size - off : chunk, err);
                if (k < 0)
                        return k;
        }
        return upload_finish(u, u->size, err);
}

int registry_put_blob(struct registry *r, const char *repo, const char *digest, int in_fd, uint64_t size,
                      const char *from_repo, uint64_t chunk, registry_progress_fn progress, void *userdata,
                      struct error *err)
{
        _cleanup_free_ char *what = NULL;
        struct upload u = { .r = r, .repo = repo, .digest = digest, .in_fd = in_fd, .size = size,
                            .progress = progress, .userdata = userdata };
        int k;

        if (check_repo(repo, err) < 0 || (from_repo && check_repo(from_repo, err) < 0))
                return -EINVAL;
        if (!digest_valid(digest))
                return error_setx(err, EINVAL, "invalid digest `%s`", digest ? digest : "");
        what = xasprintf("%s/%s@%s", r->domain, repo, digest);
        u.what = what;
        k = registry_blob_exists(r, repo, digest, err);
        if (k == 0 && from_repo && !streq(from_repo, repo)) {
                k = upload_start(&u, from_repo, err);
                /* a mount is only a shortcut: the source repository may be
                 * one our credentials cannot read */
                if (k == -EACCES || k == -ENOENT) {
                        error_clear(err);
                        k = upload_start(&u, NULL, err);
                }
        } else if (k == 0)
                k = upload_start(&u, NULL, err);
        if (k == 0) {
                k = upload_body(&u, chunk, err);
                if (k < 0)
                        upload_cancel(&u);
        }
        if (k >= 0 && progress)
                progress(size, size, userdata);
        free(u.location);
        return k < 0 ? k : 0;
}
