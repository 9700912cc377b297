// Batched UDP for the DNS hot path. node:dgram costs about 7 µs a datagram before any DNS work
// (bench/RESULTS.md): a recvmsg and a sendmsg each, a 64 KiB allocation, a Buffer, an rinfo object
// and a SendWrap per query, and one call into JavaScript per datagram. Here one recvmmsg fills up
// to `batch` slots of buffers JavaScript owns, one call into JavaScript answers them all, and one
// sendmmsg sends the replies JavaScript left in the outbox. The socket is polled on Node's own
// event loop (uv_poll), so timers, TCP and the watches run between batches as before.
//
// Layout shared with src/server/udp-batch.ts (which allocates every buffer):
//   inbox     batch * SLOT bytes          datagram i at i * SLOT
//   meta      Int32Array(batch * META)    [length (-1: cut by the kernel, unreadable), address text
//                                         length, 1 if the sender is IPv4 (or IPv4-mapped) else 0,
//                                         its IPv4 address (so JavaScript can reuse the text)]
//   addrText  batch * ADDR_TEXT bytes     the sender as text (inet_ntop, "%scope" for link-local)
//   addrRaw   batch * ADDR_RAW bytes      the sender's sockaddr, where replies go
//   outbox    any size                    replies, packed
//   outMeta   Int32Array(batch * 2 + 2)   [offset, length (-1: nothing to send now)] per slot, then
//                                         failed sends and failed receives since JavaScript last
//                                         took them (it zeroes them)
// Built by native/build.ts; optional: without it the server uses node:dgram.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

// The largest UDP payload (65,507 octets over IPv4, 65,527 over IPv6) fits a slot, so every
// datagram is read whole, as node:dgram reads it. JavaScript allocates the inbox without zeroing:
// only the pages datagrams are written to become resident (~4 KiB a slot for DNS queries).
#define SLOT 65536
#define META 4
#define ADDR_TEXT 64
#define ADDR_RAW 32
#define MAX_BATCH 256
// Batches per readable event before the loop gets a turn (timers, TCP, the watches).
#define ROUNDS 8

typedef struct {
  napi_env env;
  napi_ref on_batch;
  napi_ref on_closed;
  napi_ref buffers[6];
  napi_async_context async;
  uv_poll_t poll;
  int fd;
  int family;
  int batch;
  int closing;
  // Freed once both libuv has let go of the poll handle and JavaScript of the handle object.
  int released_by_loop;
  int released_by_js;
  uint8_t *inbox;
  int32_t *meta;
  char *addr_text;
  uint8_t *addr_raw;
  uint8_t *outbox;
  size_t outbox_size;
  int32_t *out_meta;
  struct mmsghdr rmsgs[MAX_BATCH];
  struct iovec riov[MAX_BATCH];
  struct mmsghdr smsgs[MAX_BATCH];
  struct iovec siov[MAX_BATCH];
} udp_t;

static napi_value throw_errno(napi_env env, const char *syscall, int err, const char *where) {
  char message[160];
  const char *code = uv_err_name(uv_translate_sys_error(err));
  snprintf(message, sizeof message, "%s %s%s%s", syscall, code, where ? " " : "", where ? where : "");
  napi_value error, code_value, msg_value, errno_value, syscall_value;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg_value);
  napi_create_error(env, code_value, msg_value, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static udp_t *handle_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

// Bytes of a Buffer or a typed array, and a reference that keeps it alive while we hold it.
static int borrow(napi_env env, napi_value value, void **data, size_t *length, napi_ref *ref) {
  bool is_buffer = false, is_typed = false;
  napi_is_buffer(env, value, &is_buffer);
  if (is_buffer) {
    if (napi_get_buffer_info(env, value, data, length) != napi_ok) return 0;
  } else {
    napi_is_typedarray(env, value, &is_typed);
    if (!is_typed) return 0;
    napi_typedarray_type type;
    size_t count;
    napi_value array_buffer;
    size_t offset;
    if (napi_get_typedarray_info(env, value, &type, &count, data, &array_buffer, &offset) != napi_ok) return 0;
    if (type != napi_int32_array) return 0;
    *length = count * 4;
  }
  return ref == NULL || napi_create_reference(env, value, 1, ref) == napi_ok;
}

static void format_sender(udp_t *u, int i) {
  const struct sockaddr *sa = (const struct sockaddr *)(u->addr_raw + (size_t)i * ADDR_RAW);
  char *text = u->addr_text + (size_t)i * ADDR_TEXT;
  const char *ok;
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
    ok = inet_ntop(AF_INET6, &sin6->sin6_addr, text, ADDR_TEXT);
    if (ok != NULL && sin6->sin6_scope_id != 0) {
      // As node:dgram reports it: fe80::1%eth0.
      size_t used = strlen(text);
      char name[IF_NAMESIZE];
      if (if_indextoname(sin6->sin6_scope_id, name) != NULL) snprintf(text + used, ADDR_TEXT - used, "%%%s", name);
      else snprintf(text + used, ADDR_TEXT - used, "%%%u", sin6->sin6_scope_id);
    }
  } else {
    ok = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, ADDR_TEXT);
  }
  u->meta[i * META + 1] = ok == NULL ? 0 : (int32_t)strlen(text);
  // The text of an IPv4 sender is a function of its 4 octets (on this socket), so JavaScript keys
  // a cache of the strings on them instead of decoding the text for every query.
  const uint8_t *v4 = NULL;
  if (sa->sa_family == AF_INET) {
    v4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
  } else if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
    v4 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12;
  }
  u->meta[i * META + 2] = v4 != NULL && ok != NULL;
  int32_t key = 0;
  if (v4 != NULL) memcpy(&key, v4, 4);
  u->meta[i * META + 3] = key;
}

static socklen_t sockaddr_size(int family) {
  return family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

// Sends what JavaScript left in the outbox for the first `count` slots.
static void send_replies(udp_t *u, int count) {
  int pending = 0;
  for (int i = 0; i < count; i++) {
    int32_t offset = u->out_meta[i * 2], length = u->out_meta[i * 2 + 1];
    if (length < 0) continue;
    if (offset < 0 || (size_t)offset + (size_t)length > u->outbox_size) {
      u->out_meta[u->batch * 2]++;
      continue;
    }
    u->siov[pending].iov_base = u->outbox + offset;
    u->siov[pending].iov_len = (size_t)length;
    struct msghdr *h = &u->smsgs[pending].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = u->addr_raw + (size_t)i * ADDR_RAW;
    h->msg_namelen = sockaddr_size(((struct sockaddr *)h->msg_name)->sa_family);
    h->msg_iov = &u->siov[pending];
    h->msg_iovlen = 1;
    pending++;
  }
  int sent = 0;
  while (sent < pending) {
    int n = sendmmsg(u->fd, u->smsgs + sent, (unsigned)(pending - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The first unsent reply failed (full send buffer, unreachable sender): count it, go on.
      u->out_meta[u->batch * 2]++;
      sent++;
      continue;
    }
    sent += n;
  }
}

static void call_js(udp_t *u, int count) {
  napi_env env = u->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, recv, argv[1], result;
  napi_get_reference_value(env, u->on_batch, &callback);
  napi_get_global(env, &recv); // make_callback wants an object receiver
  napi_create_int32(env, count, &argv[0]);
  napi_status status = napi_make_callback(env, u->async, recv, callback, 1, argv, &result);
  if (status == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  } else if (status != napi_ok) {
    u->out_meta[u->batch * 2 + 1] += count; // not answered: counted as failed receives
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  udp_t *u = poll->data;
  if (status < 0) {
    u->out_meta[u->batch * 2 + 1]++;
    return;
  }
  for (int round = 0; round < ROUNDS && !u->closing; round++) {
    for (int i = 0; i < u->batch; i++) {
      struct msghdr *h = &u->rmsgs[i].msg_hdr;
      h->msg_name = u->addr_raw + (size_t)i * ADDR_RAW;
      h->msg_namelen = ADDR_RAW;
      h->msg_iov = &u->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
    }
    int n = recvmmsg(u->fd, u->rmsgs, (unsigned)u->batch, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) u->out_meta[u->batch * 2 + 1]++;
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      int truncated = (u->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      u->meta[i * META] = truncated ? -1 : (int32_t)u->rmsgs[i].msg_len;
      format_sender(u, i);
      u->out_meta[i * 2 + 1] = -1;
    }
    call_js(u, n);
    if (u->closing) return;
    send_replies(u, n);
    if (n < u->batch) return;
  }
}

static void on_closed(uv_handle_t *handle) {
  udp_t *u = handle->data;
  close(u->fd);
  if (u->on_closed != NULL) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(u->env, &scope) == napi_ok) {
      napi_value callback, recv, result;
      napi_get_reference_value(u->env, u->on_closed, &callback);
      napi_get_global(u->env, &recv);
      if (napi_make_callback(u->env, u->async, recv, callback, 0, NULL, &result) == napi_pending_exception) {
        napi_value error;
        napi_get_and_clear_last_exception(u->env, &error);
        napi_fatal_exception(u->env, error);
      }
      napi_close_handle_scope(u->env, scope);
    }
    napi_delete_reference(u->env, u->on_closed);
  }
  napi_delete_reference(u->env, u->on_batch);
  for (int i = 0; i < 6; i++) napi_delete_reference(u->env, u->buffers[i]);
  napi_async_destroy(u->env, u->async);
  u->released_by_loop = 1;
  if (u->released_by_js) free(u);
}

// The handle object is unreachable (which cannot happen while the socket is open: onBatch's
// reference keeps what it closes over alive).
static void on_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_t *u = data;
  u->released_by_js = 1;
  if (u->released_by_loop) free(u);
}

// open(host, port, reusePort, receiveBuffer, batch, inbox, meta, addrText, addrRaw, outbox,
//      outMeta, onBatch) -> handle. Throws like node:dgram's bind (code, errno, syscall).
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 12) return throw_type(env, "open: 12 arguments");
  char host[INET6_ADDRSTRLEN + 1];
  size_t host_length;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length) != napi_ok) return throw_type(env, "open: host");
  int32_t port, receive_buffer, batch;
  bool reuse_port;
  if (napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535) return throw_type(env, "open: port");
  if (napi_get_value_bool(env, argv[2], &reuse_port) != napi_ok) return throw_type(env, "open: reusePort");
  if (napi_get_value_int32(env, argv[3], &receive_buffer) != napi_ok) return throw_type(env, "open: receiveBuffer");
  if (napi_get_value_int32(env, argv[4], &batch) != napi_ok || batch < 1 || batch > MAX_BATCH) return throw_type(env, "open: batch");

  struct sockaddr_storage address;
  memset(&address, 0, sizeof address);
  int family;
  if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&address)->sin_addr) == 1) {
    family = AF_INET;
    ((struct sockaddr_in *)&address)->sin_family = AF_INET;
    ((struct sockaddr_in *)&address)->sin_port = htons((uint16_t)port);
  } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&address)->sin6_addr) == 1) {
    family = AF_INET6;
    ((struct sockaddr_in6 *)&address)->sin6_family = AF_INET6;
    ((struct sockaddr_in6 *)&address)->sin6_port = htons((uint16_t)port);
  } else {
    return throw_type(env, "open: host must be an IP literal");
  }

  udp_t *u = calloc(1, sizeof *u);
  if (u == NULL) return throw_errno(env, "open", ENOMEM, NULL);
  u->env = env;
  u->family = family;
  u->batch = batch;
  void *data;
  size_t length;
  size_t need[6] = {(size_t)batch * SLOT, (size_t)batch * META * 4, (size_t)batch * ADDR_TEXT, (size_t)batch * ADDR_RAW, 512,
                    ((size_t)batch * 2 + 2) * 4};
  void **into[6] = {(void **)&u->inbox, (void **)&u->meta, (void **)&u->addr_text, (void **)&u->addr_raw, (void **)&u->outbox,
                    (void **)&u->out_meta};
  int taken = 0;
  for (; taken < 6; taken++) {
    if (!borrow(env, argv[5 + taken], &data, &length, NULL) || length < need[taken]) break;
    *into[taken] = data;
    if (taken == 4) u->outbox_size = length;
  }
  napi_valuetype callback_type;
  napi_typeof(env, argv[11], &callback_type);
  if (taken < 6 || callback_type != napi_function) {
    free(u);
    return throw_type(env, "open: buffers too small or callback missing");
  }

  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    free(u);
    return throw_errno(env, "socket", err, NULL);
  }
  int one = 1;
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    free(u);
    return throw_errno(env, "setsockopt", err, NULL);
  }
  if (bind(fd, (struct sockaddr *)&address, sockaddr_size(family)) != 0) {
    int err = errno;
    char where[INET6_ADDRSTRLEN + 8];
    snprintf(where, sizeof where, "%s:%d", host, port);
    close(fd);
    free(u);
    return throw_errno(env, "bind", err, where);
  }
  // Capped by net.core.rmem_max; the default queue still works if refused.
  if (receive_buffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);

  for (int i = 0; i < batch; i++) {
    u->riov[i].iov_base = u->inbox + (size_t)i * SLOT;
    u->riov[i].iov_len = SLOT;
  }
  u->fd = fd;
  uv_loop_t *loop;
  napi_value resource_name;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &u->poll, fd) != 0) {
    close(fd);
    free(u);
    return throw_errno(env, "uv_poll_init", EINVAL, NULL);
  }
  u->poll.data = u;
  napi_create_string_utf8(env, "cluster-dns:udp", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &u->async);
  napi_create_reference(env, argv[11], 1, &u->on_batch);
  for (int i = 0; i < 6; i++) napi_create_reference(env, argv[5 + i], 1, &u->buffers[i]);
  uv_poll_start(&u->poll, UV_READABLE, on_readable);

  napi_value handle;
  napi_create_external(env, u, on_finalized, NULL, &handle);
  return handle;
}

static napi_value Port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = argc == 1 ? handle_of(env, argv[0]) : NULL;
  if (u == NULL || u->closing) return throw_type(env, "port: not an open socket");
  struct sockaddr_storage address;
  socklen_t size = sizeof address;
  if (getsockname(u->fd, (struct sockaddr *)&address, &size) != 0) return throw_errno(env, "getsockname", errno, NULL);
  int port = address.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&address)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&address)->sin_port);
  napi_create_int32(env, port, &result);
  return result;
}

// send(handle, reply, address, offset) -> bool: one reply outside a batch (an answer that took
// a promise, or one too big for the outbox) to the sockaddr at address[offset].
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = argc == 4 ? handle_of(env, argv[0]) : NULL;
  if (u == NULL) return throw_type(env, "send: not a socket");
  void *reply, *address;
  size_t reply_length, address_length;
  int32_t offset;
  if (!borrow(env, argv[1], &reply, &reply_length, NULL) || !borrow(env, argv[2], &address, &address_length, NULL) ||
      napi_get_value_int32(env, argv[3], &offset) != napi_ok || offset < 0 || (size_t)offset + ADDR_RAW > address_length) {
    return throw_type(env, "send: reply, address, offset");
  }
  // The caller counts a failed send (false).
  bool ok = false;
  if (!u->closing) {
    const struct sockaddr *to = (const struct sockaddr *)((uint8_t *)address + offset);
    ssize_t n;
    do n = sendto(u->fd, reply, reply_length, MSG_DONTWAIT, to, sockaddr_size(to->sa_family));
    while (n < 0 && errno == EINTR);
    ok = n >= 0;
  }
  napi_get_boolean(env, ok, &result);
  return result;
}

// close(handle, onClosed): stops polling now; the descriptor is closed once libuv has let go of
// it, and then onClosed() is called (the port is free again).
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = argc == 2 ? handle_of(env, argv[0]) : NULL;
  napi_valuetype callback_type = napi_undefined;
  if (u != NULL) napi_typeof(env, argv[1], &callback_type);
  if (u == NULL || callback_type != napi_function) return throw_type(env, "close: socket, callback");
  if (!u->closing) {
    u->closing = 1;
    napi_create_reference(env, argv[1], 1, &u->on_closed);
    uv_poll_stop(&u->poll);
    uv_close((uv_handle_t *)&u->poll, on_closed);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, Port, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  napi_value slot, batch;
  napi_create_int32(env, SLOT, &slot);
  napi_create_int32(env, MAX_BATCH, &batch);
  napi_set_named_property(env, exports, "SLOT", slot);
  napi_set_named_property(env, exports, "MAX_BATCH", batch);
  return exports;
}
