/*
 * sendfile(2) for berth's blob pulls: copies a file range to a socket inside the kernel, as nginx
 * and distribution do, instead of reading the bytes into JavaScript and writing them back out.
 *
 * sendfile(socketFd, fileFd, offset, count, callback(err, sent)) runs on the libuv threadpool. It
 * works on a dup() of the socket's descriptor, closed when done, so the socket cannot be closed
 * and its number reused while this thread writes to it. The socket is
 * non-blocking: on EAGAIN the thread waits with poll() for room, up to IDLE_MS without progress.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <node_api.h>

#define IDLE_MS 300000

typedef struct {
  napi_async_work work;
  napi_ref callback;
  int out_fd;
  int in_fd;
  int64_t offset;
  int64_t count;
  int64_t sent;
  int error;
} job_t;

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = data;
  off_t off = (off_t)job->offset;
  while (job->sent < job->count) {
    size_t chunk = (size_t)(job->count - job->sent);
    if (chunk > (1u << 30)) chunk = 1u << 30;
    ssize_t n = sendfile(job->out_fd, job->in_fd, &off, chunk);
    if (n > 0) {
      job->sent += n;
      continue;
    }
    if (n == 0) {
      job->error = EIO; /* the file is shorter than promised */
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      struct pollfd p = {.fd = job->out_fd, .events = POLLOUT};
      int r = poll(&p, 1, IDLE_MS);
      if (r == 0) {
        job->error = ETIMEDOUT;
        return;
      }
      if (r < 0 && errno != EINTR) {
        job->error = errno;
        return;
      }
      if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
        job->error = EPIPE;
        return;
      }
      continue;
    }
    job->error = errno;
    return;
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value cb, undefined, argv[2];
  napi_get_reference_value(env, job->callback, &cb);
  napi_get_undefined(env, &undefined);
  if (status != napi_ok || job->error != 0) {
    napi_value message, code;
    int err = job->error != 0 ? job->error : EIO;
    napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &argv[0]);
    napi_create_int32(env, err, &code);
    napi_set_named_property(env, argv[0], "errno", code);
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_create_int64(env, job->sent, &argv[1]);
  close(job->out_fd);
  napi_call_function(env, undefined, cb, 2, argv, NULL);
  napi_delete_reference(env, job->callback);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) {
    napi_throw_type_error(env, NULL, "sendfile(outFd, inFd, offset, count, callback)");
    return NULL;
  }
  job_t *job = calloc(1, sizeof(job_t));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  int socket_fd = -1;
  napi_get_value_int32(env, argv[0], &socket_fd);
  /* Our own descriptor for the socket: Node may close its own while this thread still writes. */
  job->out_fd = dup(socket_fd);
  if (job->out_fd < 0) {
    free(job);
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  napi_get_value_int32(env, argv[1], &job->in_fd);
  napi_get_value_int64(env, argv[2], &job->offset);
  napi_get_value_int64(env, argv[3], &job->count);
  napi_create_reference(env, argv[4], 1, &job->callback);
  napi_value name;
  napi_create_string_utf8(env, "berth.sendfile", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendfile", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "sendfile", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
