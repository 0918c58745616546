// Shared by the addons that receive (header-only): a non-blocking fd watched by a uv_poll_t on
// Node's own loop (no threads); the callbacks run on the main thread.
#pragma once

#include <napi.h>
#include <uv.h>

#include <sys/socket.h>

namespace mlb {

// Starts watching `fd` for readability with `cb` (handle->data = data). On failure throws a JS
// Error and returns nullptr (the caller still owns fd).
inline uv_poll_t* WatchReadable(Napi::Env env, int fd, void* data, uv_poll_cb cb) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, "no libuv loop").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto* poll = new uv_poll_t;
  if (uv_poll_init(loop, poll, fd) != 0) {
    delete poll;
    Napi::Error::New(env, "uv_poll_init failed").ThrowAsJavaScriptException();
    return nullptr;
  }
  poll->data = data;
  uv_poll_start(poll, UV_READABLE, cb);
  return poll;
}

// libuv stops the watcher on POLLERR (e.g. ENETDOWN when a link goes down, an ICMP error on a
// UDP socket). Clears the pending socket error and watches again (at most 1000 times in a
// row), so a transient error does not leave a deaf socket.
inline void RewatchAfterError(uv_poll_t* handle, int fd, int* errors, uv_poll_cb cb) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (++*errors <= 1000) uv_poll_start(handle, UV_READABLE, cb);
}

// Stops and frees the watcher (the uv handle is freed by libuv's close callback).
inline void CloseWatch(uv_poll_t** poll) {
  if (*poll == nullptr) return;
  uv_poll_stop(*poll);
  (*poll)->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(*poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  *poll = nullptr;
}

}  // namespace mlb
