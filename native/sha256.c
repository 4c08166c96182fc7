/*
 * sha256 on libuv's threadpool for berth's uploads, so that hashing a push's bytes runs beside
 * the event loop that receives them instead of on it. A 256 MiB push spent a quarter of its main
 * thread in sha256 (node:crypto's update is synchronous); on two cores the second one was idle.
 *
 * The hash is OpenSSL's (EVP sha256, with SHA-NI where the CPU has it), the same code node:crypto
 * runs: Node exports OpenSSL's symbols to addons, and its headers ship with Node's own.
 *
 *   h = create()                         a new hash context
 *   update(h, buffers, callback(err))    hash the buffers, in order, on a pool thread; the caller
 *                                        keeps one update in flight per context, and must not
 *                                        change the buffers until the callback
 *   updateSync(h, buffer)                hash a (small) buffer now, on the calling thread
 *   digest(h, final)                     the 32-byte digest so far; `final` ends the context,
 *                                        otherwise hashing may go on
 *
 * Misuse (update or digest while an update is in flight, anything after a final digest) throws
 * instead of racing the pool thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/evp.h>

typedef struct {
  EVP_MD_CTX *ctx;
  int busy;
  int finished;
} hasher_t;

typedef struct {
  napi_async_work work;
  napi_ref self;     /* the context's JS object, alive while the work runs */
  napi_ref buffers;  /* the array of buffers, alive while the work runs */
  napi_ref callback;
  hasher_t *hasher;
  size_t count;
  const uint8_t **data;
  size_t *lengths;
  int ok;
} job_t;

static void finalize_hasher(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  hasher_t *h = data;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

static napi_value create(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj;
  hasher_t *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    napi_throw_error(env, "ENOMEM", "sha256: out of memory");
    return NULL;
  }
  h->ctx = EVP_MD_CTX_new();
  if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(h->ctx);
    free(h);
    napi_throw_error(env, NULL, "sha256: cannot initialise the digest");
    return NULL;
  }
  if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, h, finalize_hasher, NULL, NULL) != napi_ok) {
    EVP_MD_CTX_free(h->ctx);
    free(h);
    napi_throw_error(env, NULL, "sha256: cannot create the context");
    return NULL;
  }
  return obj;
}

/* The context behind argv[0], usable now (not busy, not finished), or NULL with an exception. */
static hasher_t *ready(napi_env env, napi_value value) {
  hasher_t *h = NULL;
  if (napi_unwrap(env, value, (void **)&h) != napi_ok || h == NULL) {
    napi_throw_type_error(env, NULL, "sha256: not a hash context");
    return NULL;
  }
  if (h->busy) {
    napi_throw_error(env, NULL, "sha256: an update is in flight");
    return NULL;
  }
  if (h->finished) {
    napi_throw_error(env, NULL, "sha256: the digest was already taken");
    return NULL;
  }
  return h;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = data;
  job->ok = 1;
  for (size_t i = 0; i < job->count && job->ok; i++) {
    if (EVP_DigestUpdate(job->hasher->ctx, job->data[i], job->lengths[i]) != 1) job->ok = 0;
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value callback, global, arg;
  job->hasher->busy = 0;
  if (status != napi_ok || !job->ok) {
    napi_value msg;
    napi_create_string_utf8(env, "sha256: update failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &arg);
  } else {
    napi_get_null(env, &arg);
  }
  napi_get_reference_value(env, job->callback, &callback);
  napi_get_global(env, &global);
  napi_delete_reference(env, job->callback);
  napi_delete_reference(env, job->buffers);
  napi_delete_reference(env, job->self);
  napi_delete_async_work(env, job->work);
  free(job->data);
  free(job->lengths);
  free(job);
  napi_call_function(env, global, callback, 1, &arg, NULL);
}

static napi_value update(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], name;
  uint32_t count = 0;
  bool is_array = false;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "sha256.update(context, buffers, callback)");
    return NULL;
  }
  hasher_t *h = ready(env, argv[0]);
  if (h == NULL) return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &count) != napi_ok ||
      napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "sha256.update(context, buffers, callback)");
    return NULL;
  }
  job_t *job = calloc(1, sizeof(*job));
  if (job == NULL) goto oom;
  job->hasher = h;
  job->count = count;
  job->data = calloc(count ? count : 1, sizeof(*job->data));
  job->lengths = calloc(count ? count : 1, sizeof(*job->lengths));
  if (job->data == NULL || job->lengths == NULL) goto oom;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    bool is_buffer = false;
    void *bytes = NULL;
    size_t length = 0;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok || napi_is_buffer(env, item, &is_buffer) != napi_ok || !is_buffer ||
        napi_get_buffer_info(env, item, &bytes, &length) != napi_ok) {
      free(job->data);
      free(job->lengths);
      free(job);
      napi_throw_type_error(env, NULL, "sha256.update: every item must be a Buffer");
      return NULL;
    }
    job->data[i] = bytes;
    job->lengths[i] = length;
  }
  napi_create_string_utf8(env, "berth:sha256", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[0], 1, &job->self) != napi_ok || napi_create_reference(env, argv[1], 1, &job->buffers) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &job->callback) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok || napi_queue_async_work(env, job->work) != napi_ok) {
    napi_throw_error(env, NULL, "sha256.update: cannot queue the work");
    return NULL;
  }
  h->busy = 1;
  return NULL;
oom:
  if (job != NULL) {
    free(job->data);
    free(job->lengths);
    free(job);
  }
  napi_throw_error(env, "ENOMEM", "sha256: out of memory");
  return NULL;
}

static napi_value update_sync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *bytes = NULL;
  size_t length = 0;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "sha256.updateSync(context, buffer)");
    return NULL;
  }
  hasher_t *h = ready(env, argv[0]);
  if (h == NULL) return NULL;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[1], &bytes, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "sha256.updateSync: not a Buffer");
    return NULL;
  }
  if (EVP_DigestUpdate(h->ctx, bytes, length) != 1) napi_throw_error(env, NULL, "sha256: update failed");
  return NULL;
}

static napi_value digest(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  bool final = false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  void *out = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_bool(env, argv[1], &final) != napi_ok) {
    napi_throw_type_error(env, NULL, "sha256.digest(context, final)");
    return NULL;
  }
  hasher_t *h = ready(env, argv[0]);
  if (h == NULL) return NULL;
  int ok;
  if (final) {
    ok = EVP_DigestFinal_ex(h->ctx, md, &length) == 1;
    h->finished = 1;
  } else {
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    ok = copy != NULL && EVP_MD_CTX_copy_ex(copy, h->ctx) == 1 && EVP_DigestFinal_ex(copy, md, &length) == 1;
    EVP_MD_CTX_free(copy);
  }
  if (!ok || napi_create_buffer_copy(env, length, md, &out, &result) != napi_ok) {
    napi_throw_error(env, NULL, "sha256: cannot compute the digest");
    return NULL;
  }
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"update", NULL, update, NULL, NULL, NULL, napi_default, NULL},
      {"updateSync", NULL, update_sync, NULL, NULL, NULL, napi_default, NULL},
      {"digest", NULL, digest, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
