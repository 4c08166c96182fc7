/*
 * sendfile(2) for berth's blob pulls: copies a file range to a socket inside the kernel, as nginx
 * and distribution do, instead of reading the bytes into JavaScript and writing them back out.
 *
 * The copy runs on the event loop, the way nginx runs it: the socket is non-blocking, each turn of
 * the loop sends at most TURN_BYTES with sendfile(), and when the socket is full a uv_poll handle
 * waits for room. No threadpool thread is held for the length of a pull (the pool has 4 threads:
 * 16 concurrent pulls used to queue behind each other and behind every fs call of the process).
 *
 *   cork(socketFd)                              TCP_CORK on: the headers Node writes next wait for
 *                                               the body, and leave in the same full segments.
 *   job = sendfile(socketFd, fileFd, offset, count, [idleMs,] callback(err, sent))
 *   abort(job)                                  stops a job (the client went away); its callback
 *                                               gets ECANCELED. A finished job ignores it.
 *
 *   job = copy(socketFd, fileFd, offset, count, [idleMs,] callback(err, sent))
 *                                               the same job with pread() and write() through one
 *                                               1 MiB buffer instead of sendfile(): for loopback
 *                                               peers, where it is faster (below)
 *
 * Why copy() at all: on loopback the receiver copies every byte out of the sender's buffers
 * anyway, and a sendfile()'d skb holds page-cache pages by reference, a page at a time, where a
 * write()'s carries the bytes in large linear pieces. Measured on this project's 2-core machine,
 * one 256 MiB pull with curl, 9 interleaved runs, medians: sendfile 1500 MB/s, read/write through
 * 64 KiB 1759, 256 KiB 1908, 1 MiB 2303, distribution 2.8.2 (32 KiB read/write) 2082; 16
 * concurrent pulls: 1499, -, -, 2116, 1781 MB/s. Over a network interface sendfile() saves the
 * copy into the socket, as nginx relies on, so it stays the choice there.
 *
 * The job polls and writes a dup() of the socket's descriptor, closed when done, so that Node may
 * close its own meanwhile without the number being reused under us. The callback always runs on a
 * later turn of the loop, after the dup is closed; a job that makes no progress for idleMs fails
 * with ETIMEDOUT. On success the socket is uncorked, which pushes out the last partial segment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

/* Bytes one turn of the loop may send to one socket: nginx's sendfile_max_chunk (2m) per call. */
#define TURN_BYTES (2 << 20)
/* Without progress for this long (a client that stopped reading), a job fails with ETIMEDOUT. */
#define IDLE_MS 300000
/* copy(): bytes per pread()/write(); one buffer serves every job, since they all run on the loop. */
#define COPY_BYTES (1 << 20)

enum { MODE_SENDFILE, MODE_COPY };
static char *copy_buffer = NULL;

typedef struct {
  uv_poll_t poll;
  uv_timer_t timer;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int out_fd;
  int in_fd;
  int64_t offset;
  int64_t count;
  int64_t sent;
  uint64_t idle_ms;
  uint64_t last_progress;
  int mode;
  int error;
  int finished;
  int open_handles;
  /* One for the running job, one for the JS object returned by sendfile(). */
  int refs;
} job_t;

static void release(job_t *job) {
  if (--job->refs == 0) free(job);
}

static void throw_errno(napi_env env, int err) {
  napi_throw_error(env, NULL, strerror(err));
}

/* Both handles closed: nothing of the job is left in the loop. Close the dup, then tell JS. */
static void on_handle_closed(uv_handle_t *handle) {
  job_t *job = handle->data;
  if (--job->open_handles > 0) return;
  close(job->out_fd);
  napi_env env = job->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2];
  napi_get_reference_value(env, job->callback, &cb);
  napi_get_global(env, &recv); /* make_callback needs an object as `this` */
  if (job->error != 0) {
    napi_value message, code;
    napi_create_string_utf8(env, strerror(job->error), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &argv[0]);
    napi_create_int32(env, job->error, &code);
    napi_set_named_property(env, argv[0], "errno", code);
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_create_int64(env, job->sent, &argv[1]);
  /* make_callback, not call_function: it runs the microtasks (the awaiting promise) afterwards. */
  napi_status status = napi_make_callback(env, job->context, recv, cb, 2, argv, NULL);
  if (status == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  napi_delete_reference(env, job->callback);
  napi_async_destroy(env, job->context);
  napi_close_handle_scope(env, scope);
  release(job);
}

static void finish(job_t *job, int error) {
  if (job->finished) return;
  job->finished = 1;
  job->error = error;
  if (error == 0) {
    int off = 0;
    setsockopt(job->out_fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
  }
  /* uv_poll_stop removes the dup from epoll now; it is closed only once both handles are. */
  uv_poll_stop(&job->poll);
  uv_timer_stop(&job->timer);
  uv_close((uv_handle_t *)&job->poll, on_handle_closed);
  uv_close((uv_handle_t *)&job->timer, on_handle_closed);
}

/*
 * copy(): up to `want` bytes of the file at `off` read into the shared buffer and written to the
 * socket. Returns the bytes the socket took (a short count when it is full: the rest is read again
 * next time), 0 at the end of the file, or -1 with errno.
 */
static ssize_t copy_range(int out_fd, int in_fd, off_t off, size_t want) {
  if (copy_buffer == NULL && (copy_buffer = malloc(COPY_BYTES)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  ssize_t got;
  do got = pread(in_fd, copy_buffer, want, off);
  while (got < 0 && errno == EINTR);
  if (got <= 0) return got;
  return write(out_fd, copy_buffer, (size_t)got);
}

/* Send what the socket takes this turn, up to TURN_BYTES; stop early when it is full. */
static void pump(job_t *job) {
  int64_t turn = 0;
  while (job->sent < job->count && turn < TURN_BYTES) {
    int64_t want = job->count - job->sent;
    if (want > TURN_BYTES - turn) want = TURN_BYTES - turn;
    if (job->mode == MODE_COPY && want > COPY_BYTES) want = COPY_BYTES;
    off_t off = (off_t)(job->offset + job->sent);
    ssize_t n = job->mode == MODE_COPY ? copy_range(job->out_fd, job->in_fd, off, (size_t)want)
                                       : sendfile(job->out_fd, job->in_fd, &off, (size_t)want);
    if (n > 0) {
      job->sent += n;
      turn += n;
      job->last_progress = uv_now(job->poll.loop);
      if (n < want) break; /* the socket is full: the poll says when it has room */
      continue;
    }
    if (n == 0) {
      finish(job, EIO); /* the file is shorter than promised */
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    finish(job, errno);
    return;
  }
  if (job->sent == job->count) finish(job, 0);
}

static void on_writable(uv_poll_t *poll, int status, int events) {
  (void)events;
  job_t *job = poll->data;
  if (job->finished) return;
  if (status < 0) {
    finish(job, status == UV_EBADF ? EBADF : EPIPE);
    return;
  }
  pump(job);
}

static void on_idle_check(uv_timer_t *timer) {
  job_t *job = timer->data;
  if (job->finished) return;
  uint64_t idle = uv_now(timer->loop) - job->last_progress;
  if (idle >= job->idle_ms) finish(job, ETIMEDOUT);
  else uv_timer_start(timer, on_idle_check, job->idle_ms - idle, 0);
}

static napi_value cork(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "cork(socketFd)");
    return NULL;
  }
  int on = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) != 0) throw_errno(env, errno);
  return NULL;
}

static void finalize_wrapper(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}

static napi_value start(napi_env env, napi_callback_info info, int mode) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int socket_fd = -1, in_fd = -1;
  int64_t offset = 0, count = 0, idle_ms = IDLE_MS;
  napi_valuetype cb_type = napi_undefined;
  /* idleMs may be left out (the 5-argument form of the earlier threadpool addon). */
  napi_value callback = argc == 6 ? argv[5] : argc == 5 ? argv[4] : NULL;
  if (callback != NULL) napi_typeof(env, callback, &cb_type);
  if (cb_type != napi_function || napi_get_value_int32(env, argv[0], &socket_fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &in_fd) != napi_ok || napi_get_value_int64(env, argv[2], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[3], &count) != napi_ok ||
      (argc == 6 && napi_get_value_int64(env, argv[4], &idle_ms) != napi_ok) || offset < 0 || count < 0 || idle_ms <= 0) {
    napi_throw_type_error(env, NULL, "sendfile/copy(socketFd, fileFd, offset >= 0, count >= 0, [idleMs > 0,] callback)");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "no event loop");
    return NULL;
  }
  job_t *job = calloc(1, sizeof(job_t));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  /* Our own descriptor for the socket: Node may close its own while the job still writes. */
  job->out_fd = fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
  if (job->out_fd < 0) {
    int err = errno;
    free(job);
    throw_errno(env, err);
    return NULL;
  }
  int r = uv_poll_init_socket(loop, &job->poll, job->out_fd);
  if (r != 0) {
    close(job->out_fd);
    free(job);
    napi_throw_error(env, NULL, uv_strerror(r));
    return NULL;
  }
  uv_timer_init(loop, &job->timer);
  job->poll.data = job;
  job->timer.data = job;
  job->env = env;
  job->in_fd = in_fd;
  job->mode = mode;
  job->offset = offset;
  job->count = count;
  job->idle_ms = (uint64_t)idle_ms;
  job->last_progress = uv_now(loop);
  job->open_handles = 2;
  job->refs = 2;
  napi_value wrapper, name;
  napi_create_object(env, &wrapper);
  napi_wrap(env, wrapper, job, finalize_wrapper, NULL, NULL);
  napi_create_string_utf8(env, "berth.sendfile", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, wrapper, name, &job->context);
  napi_create_reference(env, callback, 1, &job->callback);
  uv_timer_start(&job->timer, on_idle_check, job->idle_ms, 0);
  /* Send what fits now (often everything, for a small blob), then wait for room. */
  pump(job);
  if (!job->finished) {
    r = uv_poll_start(&job->poll, UV_WRITABLE, on_writable);
    if (r != 0) finish(job, -r);
  }
  return wrapper;
}

static napi_value start_sendfile(napi_env env, napi_callback_info info) {
  return start(env, info, MODE_SENDFILE);
}

static napi_value start_copy(napi_env env, napi_callback_info info) {
  return start(env, info, MODE_COPY);
}

static napi_value abort_job(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_unwrap(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "abort(job)");
    return NULL;
  }
  finish(data, ECANCELED);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendfile", NAPI_AUTO_LENGTH, start_sendfile, NULL, &fn);
  napi_set_named_property(env, exports, "sendfile", fn);
  napi_create_function(env, "copy", NAPI_AUTO_LENGTH, start_copy, NULL, &fn);
  napi_set_named_property(env, exports, "copy", fn);
  napi_create_function(env, "cork", NAPI_AUTO_LENGTH, cork, NULL, &fn);
  napi_set_named_property(env, exports, "cork", fn);
  napi_create_function(env, "abort", NAPI_AUTO_LENGTH, abort_job, NULL, &fn);
  napi_set_named_property(env, exports, "abort", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
