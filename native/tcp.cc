// metallb_tcp: the TCP socket options Node cannot set itself (Linux only).
//   socket(family)                  -> fd      non-blocking, close-on-exec TCP socket (4 or 6)
//   setMd5(fd, peerAddress, key)               RFC 2385 TCP_MD5SIG for that peer ("" removes it)
//   setTtl(fd, family, ttl)                    IP_TTL / IPV6_UNICAST_HOPS
//   bind(fd, address, port)                    bind the local side
//   listen(fd, backlog)
//   close(fd)
// Errors are thrown as JS Errors with `code` = errno name and `syscall`.
#include "syserror.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

void ThrowErrno(Napi::Env env, const char* syscall, int e) { mlb::ThrowErrnoCode(env, syscall, e); }

void ThrowType(Napi::Env env, const char* msg) { Napi::TypeError::New(env, msg).ThrowAsJavaScriptException(); }

// Parses a literal IPv4/IPv6 address into a sockaddr_storage. Returns false when invalid.
bool ParseAddr(const std::string& s, int port, sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, s.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

bool GetInt(const Napi::CallbackInfo& info, size_t i, int* out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  *out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

bool GetStr(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) return false;
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

Napi::Value Socket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = 0;
  if (!GetInt(info, 0, &family) || (family != 4 && family != 6)) {
    ThrowType(env, "socket(family): family must be 4 or 6");
    return env.Undefined();
  }
  int fd = ::socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, "socket", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

Napi::Value SetMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  std::string peer, key;
  if (!GetInt(info, 0, &fd) || !GetStr(info, 1, &peer) || !GetStr(info, 2, &key)) {
    ThrowType(env, "setMd5(fd, peerAddress, key): bad arguments");
    return env.Undefined();
  }
  if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
    ThrowType(env, "setMd5: key longer than 80 bytes");
    return env.Undefined();
  }
  struct tcp_md5sig sig;
  std::memset(&sig, 0, sizeof(sig));
  socklen_t alen = 0;
  sockaddr_storage ss;
  if (!ParseAddr(peer, 0, &ss, &alen)) {
    ThrowType(env, "setMd5: peerAddress is not an IP address");
    return env.Undefined();
  }
  static_assert(sizeof(sig.tcpm_addr) == sizeof(ss), "sockaddr_storage size");
  std::memcpy(&sig.tcpm_addr, &ss, sizeof(ss));
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  std::memcpy(sig.tcpm_key, key.data(), key.size());
  if (::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
    ThrowErrno(env, "setsockopt(TCP_MD5SIG)", errno);
  }
  return env.Undefined();
}

Napi::Value SetTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1, family = 0, ttl = 0;
  if (!GetInt(info, 0, &fd) || !GetInt(info, 1, &family) || !GetInt(info, 2, &ttl) || ttl < 1 || ttl > 255 ||
      (family != 4 && family != 6)) {
    ThrowType(env, "setTtl(fd, family, ttl): bad arguments");
    return env.Undefined();
  }
  int rc = family == 4 ? ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl))
                       : ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
  if (rc != 0) ThrowErrno(env, family == 4 ? "setsockopt(IP_TTL)" : "setsockopt(IPV6_UNICAST_HOPS)", errno);
  return env.Undefined();
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1, port = 0;
  std::string addr;
  if (!GetInt(info, 0, &fd) || !GetStr(info, 1, &addr) || !GetInt(info, 2, &port) || port < 0 || port > 65535) {
    ThrowType(env, "bind(fd, address, port): bad arguments");
    return env.Undefined();
  }
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!ParseAddr(addr, port, &ss, &len)) {
    ThrowType(env, "bind: address is not an IP address");
    return env.Undefined();
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) ThrowErrno(env, "bind", errno);
  return env.Undefined();
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1, backlog = 0;
  if (!GetInt(info, 0, &fd) || !GetInt(info, 1, &backlog)) {
    ThrowType(env, "listen(fd, backlog): bad arguments");
    return env.Undefined();
  }
  if (::listen(fd, backlog) != 0) ThrowErrno(env, "listen", errno);
  return env.Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!GetInt(info, 0, &fd) || fd < 0) {
    ThrowType(env, "close(fd): bad arguments");
    return env.Undefined();
  }
  if (::close(fd) != 0) ThrowErrno(env, "close", errno);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("setMd5", Napi::Function::New(env, SetMd5));
  exports.Set("setTtl", Napi::Function::New(env, SetTtl));
  exports.Set("bind", Napi::Function::New(env, Bind));
  exports.Set("listen", Napi::Function::New(env, Listen));
  exports.Set("close", Napi::Function::New(env, Close));
  return exports;
}

}  // namespace

NODE_API_MODULE(metallb_tcp, Init)
