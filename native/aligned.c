/*
 * Page-aligned buffers for berth's direct-I/O uploads: O_DIRECT writes need a buffer whose address
 * (and length, and file offset) is a multiple of the device's logical block size, and Node's own
 * Buffers give no such guarantee (malloc'ed, 16-byte aligned).
 *
 * alignedBuffer(size) returns a Buffer of `size` bytes whose memory starts on a 4096-byte boundary,
 * freed by its finalizer; the allocation is reported to V8 as external memory so that the garbage
 * collector counts it. The memory is its own anonymous mapping (mmap), not the C heap's: glibc
 * raises its mmap threshold to the size of any mmapped chunk freed, after which posix_memalign
 * serves buffers of that size from the heap, between the request-body chunks, where freeing them
 * returns nothing to the kernel. A mapping goes back to the kernel when it is freed.
 *
 * trimFreeMemory() hands the C heap's free pages back to the kernel (glibc's malloc_trim; false
 * elsewhere). Request bodies arrive as 64 KiB buffers malloc'ed by Node, and after 32 concurrent
 * pushes glibc kept 130 MiB of freed ones in the heap: RSS stayed at 244 MiB, 113 after a trim.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <node_api.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define ALIGNMENT 4096
#define MAX_SIZE (256u * 1024 * 1024)

static void release(napi_env env, void *data, void *hint) {
  int64_t adjusted;
  munmap(data, (size_t)(uintptr_t)hint);
  napi_adjust_external_memory(env, -(int64_t)(uintptr_t)hint, &adjusted);
}

static napi_value aligned_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t size = 0;
  void *data = NULL;
  napi_value result;
  int64_t adjusted;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int64(env, argv[0], &size) != napi_ok || size <= 0 || size > MAX_SIZE || size % ALIGNMENT != 0) {
    napi_throw_range_error(env, NULL, "alignedBuffer: size must be a positive multiple of 4096 up to 256 MiB");
    return NULL;
  }
  /* mmap's memory is page-aligned: pages are at least ALIGNMENT bytes on every Linux port. */
  data = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) {
    napi_throw_error(env, "ENOMEM", "alignedBuffer: out of memory");
    return NULL;
  }
  if (napi_create_external_buffer(env, (size_t)size, data, release, (void *)(uintptr_t)size, &result) != napi_ok) {
    munmap(data, (size_t)size);
    napi_throw_error(env, NULL, "alignedBuffer: cannot create the buffer");
    return NULL;
  }
  napi_adjust_external_memory(env, size, &adjusted);
  return result;
}

static napi_value trim_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#ifdef __GLIBC__
  napi_get_boolean(env, malloc_trim(0) != 0, &result);
#else
  napi_get_boolean(env, false, &result);
#endif
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "alignedBuffer", NAPI_AUTO_LENGTH, aligned_buffer, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "alignedBuffer", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "trimFreeMemory", NAPI_AUTO_LENGTH, trim_free_memory, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trimFreeMemory", fn) != napi_ok) return NULL;
  return exports;
}
