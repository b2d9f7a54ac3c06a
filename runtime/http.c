/* HTTP transfers through libcurl with bounded retries and atomic downloads.
 * libcurl is loaded on the first transfer (lib_curl.h). */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "lib_curl.h"
#include "sha256.h"

void rt_http_options_default(rt_http_options *o) {
  o->max_attempts = 5;
  o->first_backoff_ms = 250;
  o->max_total_backoff_ms = 30000;
  o->connect_timeout_ms = 10000;
  o->stall_timeout_s = 30;
}

/* One request, retried as a whole. Exactly one sink and at most one source. */
typedef struct transfer {
  const char *method;
  const char *url;
  int out_fd;           /* download into this file, or -1 */
  const char *out_name; /* the file's final name, for errors */
  int out_errno;        /* set when writing out_fd failed */
  char *mem;            /* or into this buffer (owned until handed out) */
  size_t mem_len, mem_cap;
  FILE *in; /* upload from this stream, or NULL */
  curl_off_t in_size;
} transfer;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  transfer *t = ud;
  size_t len = size * n;
  if (t->out_fd >= 0) {
    for (size_t done = 0; done < len;) {
      ssize_t w = write(t->out_fd, p + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        t->out_errno = errno;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
      }
      done += (size_t)w;
    }
    return len;
  }
  if (!t->mem) return len; /* a body nobody asked for (DELETE, PUT) */
  if (t->mem_len + len + 1 > t->mem_cap) {
    size_t cap = (t->mem_len + len + 1) * 2;
    char *bigger = realloc(t->mem, cap);
    if (!bigger) {
      t->out_errno = ENOMEM;
      return 0;
    }
    t->mem = bigger;
    t->mem_cap = cap;
  }
  memcpy(t->mem + t->mem_len, p, len);
  t->mem_len += len;
  t->mem[t->mem_len] = '\0';
  return len;
}

/* Puts the sink and source back to their start before another try. */
static int rewind_transfer(transfer *t, rt_error *err) {
  if (t->out_fd >= 0 && (ftruncate(t->out_fd, 0) < 0 || lseek(t->out_fd, 0, SEEK_SET) < 0))
    return rt_fail(err, "cannot restart the download of %s: %s", t->out_name, strerror(errno));
  t->mem_len = 0;
  if (t->mem) t->mem[0] = '\0';
  if (t->in) rewind(t->in);
  return 0;
}

/* Transport errors worth another try: the server or network may recover. */
static int transport_retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return 1;
    default:
      return 0;
  }
}

static int status_retryable(long status) { return status >= 500 || status == 408 || status == 429; }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void set_options(CURL *c, transfer *t, const rt_http_options *o, char *errbuf) {
  rt_libcurl.easy_setopt(c, CURLOPT_URL, t->url);
  rt_libcurl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  rt_libcurl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  rt_libcurl.easy_setopt(c, CURLOPT_USERAGENT, "dlrun");
  rt_libcurl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  rt_libcurl.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  rt_libcurl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  rt_libcurl.easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  rt_libcurl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
  rt_libcurl.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  rt_libcurl.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->stall_timeout_s);
  rt_libcurl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  rt_libcurl.easy_setopt(c, CURLOPT_WRITEDATA, t);
  if (t->in) {
    rt_libcurl.easy_setopt(c, CURLOPT_UPLOAD, 1L);
    rt_libcurl.easy_setopt(c, CURLOPT_READDATA, t->in);
    rt_libcurl.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, t->in_size);
  } else if (strcmp(t->method, "GET") != 0) {
    rt_libcurl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, t->method);
  }
}

/* Runs t until it succeeds, fails for good, or runs out of tries. */
static int perform(transfer *t, const rt_http_options *o, long *status_out, rt_error *err) {
  rt_error load_err;
  if (rt_libcurl_load(&load_err) < 0) return rt_fail(err, "%s %s: %s", t->method, t->url, load_err.msg);
  CURL *c = rt_libcurl.easy_init();
  if (!c) return rt_fail(err, "%s %s: cannot initialise libcurl", t->method, t->url);
  char errbuf[CURL_ERROR_SIZE];
  long waited = 0, status = 0;
  int rc = -1;
  for (int attempt = 1;; attempt++) {
    if (rewind_transfer(t, err) < 0) break;
    errbuf[0] = '\0';
    rt_libcurl.easy_reset(c);
    set_options(c, t, o, errbuf);
    CURLcode res = rt_libcurl.easy_perform(c);
    status = 0;
    rt_libcurl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (res == CURLE_OK && status >= 200 && status < 300) {
      rc = 0;
      break;
    }
    if (t->out_errno) {
      rt_fail(err, "%s %s: cannot write %s: %s", t->method, t->url, t->out_name ? t->out_name : "the answer",
              strerror(t->out_errno));
      break;
    }
    char why[CURL_ERROR_SIZE + 64];
    if (res != CURLE_OK)
      snprintf(why, sizeof why, "%s", errbuf[0] ? errbuf : rt_libcurl.easy_strerror(res));
    else
      snprintf(why, sizeof why, "HTTP %ld", status);
    int retryable = res != CURLE_OK ? transport_retryable(res) : status_retryable(status);
    if (!retryable) {
      rt_fail(err, "%s %s: %s", t->method, t->url, why);
      break;
    }
    long wait = o->first_backoff_ms << (attempt - 1 < 20 ? attempt - 1 : 20);
    if (attempt >= o->max_attempts || waited + wait > o->max_total_backoff_ms) {
      rt_fail(err, "%s %s failed after %d attempt%s: %s", t->method, t->url, attempt, attempt == 1 ? "" : "s",
              why);
      break;
    }
    sleep_ms(wait);
    waited += wait;
  }
  rt_libcurl.easy_cleanup(c);
  if (status_out) *status_out = status;
  return rc;
}

int rt_http_get_file(const char *url, const char *path, const char *sha256, const rt_http_options *o,
                     long *status, rt_error *err) {
  char tmp[RT_PATH_MAX];
  int fd = rt_fs_open_temp(path, tmp, err);
  if (fd < 0) return -1;
  transfer t = {.method = "GET", .url = url, .out_fd = fd, .out_name = path};
  if (perform(&t, o, status, err) < 0) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (sha256) {
    char got[RT_SHA256_HEX];
    int bad = rt_sha256_file(tmp, got, err) < 0 ? -1 : strcasecmp(got, sha256) != 0;
    if (bad > 0) rt_fail(err, "GET %s: sha256 mismatch, expected %s, got %s", url, sha256, got);
    if (bad) {
      close(fd);
      unlink(tmp);
      return -1;
    }
  }
  return rt_fs_commit_temp(fd, tmp, path, err);
}

int rt_http_get_buffer(const char *url, char **data, size_t *len, const rt_http_options *o, long *status,
                       rt_error *err) {
  transfer t = {.method = "GET", .url = url, .out_fd = -1, .mem = calloc(1, 256), .mem_cap = 256};
  *data = NULL;
  *len = 0;
  if (!t.mem) return rt_fail(err, "GET %s: out of memory", url);
  if (perform(&t, o, status, err) < 0) {
    free(t.mem);
    return -1;
  }
  *data = t.mem;
  *len = t.mem_len;
  return 0;
}

/* PUTs the stream in (of size bytes); name is its origin, for errors. */
static int put_stream(const char *url, FILE *in, curl_off_t size, const rt_http_options *o, rt_error *err) {
  transfer t = {.method = "PUT", .url = url, .out_fd = -1, .in = in, .in_size = size};
  return perform(&t, o, NULL, err);
}

int rt_http_put_file(const char *url, const char *path, const rt_http_options *o, rt_error *err) {
  FILE *in = fopen(path, "rbe");
  if (!in) return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  if (fseeko(in, 0, SEEK_END) < 0) {
    fclose(in);
    return rt_fail(err, "cannot read %s: %s", path, strerror(errno));
  }
  curl_off_t size = ftello(in);
  rewind(in);
  int rc = put_stream(url, in, size, o, err);
  fclose(in);
  return rc;
}

int rt_http_put_buffer(const char *url, const void *data, size_t len, const rt_http_options *o,
                       rt_error *err) {
  /* fmemopen refuses a zero-sized buffer; an empty body needs no stream. */
  static const char empty[1];
  FILE *in = fmemopen((void *)(len ? data : empty), len ? len : 1, "rb");
  if (!in) return rt_fail(err, "PUT %s: %s", url, strerror(errno));
  int rc = put_stream(url, in, (curl_off_t)len, o, err);
  fclose(in);
  return rc;
}

int rt_http_delete(const char *url, const rt_http_options *o, rt_error *err) {
  transfer t = {.method = "DELETE", .url = url, .out_fd = -1};
  long status = 0;
  rt_error inner;
  if (perform(&t, o, &status, &inner) == 0 || status == 404) return 0;
  if (err) *err = inner;
  return -1;
}

char *rt_http_escape(const char *segment, rt_error *err) {
  if (rt_libcurl_load(err) < 0) return NULL;
  char *escaped = rt_libcurl.easy_escape(NULL, segment, 0);
  char *copy = escaped ? strdup(escaped) : NULL;
  rt_libcurl.free(escaped);
  if (!copy) rt_fail(err, "out of memory escaping '%s'", segment);
  return copy;
}
