// malloc_trim(0) for Node: after a full list and the GC that follows it, glibc's heap keeps the
// free pages between chunks still in use (holes left by start-up compilation and the list's
// buffers), and only malloc_trim hands those back; Node has no way to call it. ~5 MiB of RSS
// after sync at 150k pods (bench/RESULTS.md). Built by native/build.ts; optional at run time.
#include <node_api.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

// trim(): true when memory was given back to the system, false when none was (or not glibc).
static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value result;
  if (napi_get_boolean(env, released != 0, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value trim;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &trim) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", trim) != napi_ok) return NULL;
  return exports;
}
