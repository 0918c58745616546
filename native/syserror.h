// Shared by the addons (header-only; each addon is its own compilation unit):
// ErrnoName / ThrowErrnoCode throw a JS Error with `code` (errno name), `syscall` and `errno`.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mlb {

inline const char* ErrnoName(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOBUFS: return "ENOBUFS";
    case ENODEV: return "ENODEV";
    case ENOMEM: return "ENOMEM";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ENOTSOCK: return "ENOTSOCK";
    case EPERM: return "EPERM";
    default: return "EUNKNOWN";
  }
}

inline void ThrowErrnoCode(Napi::Env env, const char* syscall, int e) {
  Napi::Error err = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(e));
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("syscall", Napi::String::New(env, syscall));
  err.Set("errno", Napi::Number::New(env, e));
  err.ThrowAsJavaScriptException();
}

}  // namespace mlb
