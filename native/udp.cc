// metallb_udp: UDP sockets with the IP header facts Node's dgram cannot give (Linux only), for
// BFD (RFC 5881 §5 / RFC 5883 §2: GTSM needs the TTL / hop limit of every received packet).
//
// UdpSocket(family, address, port, sendTtl, device, onMessage | null)
//   family 4 | 6; address: literal local address ("" = any; IPv6 link-local with its interface
//   as scope: "fe80::1%eth0", also for send()); port 0..65535; sendTtl 1..255 is
//   set as IP_TTL / IPV6_UNICAST_HOPS; device: SO_BINDTODEVICE interface name ("" = none).
//   IP_RECVTTL / IPV6_RECVHOPLIMIT are enabled, IPv6 sockets are IPV6_V6ONLY.
//   onMessage(buffer, fromAddress, fromPort, ttl) runs on the main thread for every datagram
//   (a link-local fromAddress carries its interface: "fe80::1%eth0")
//   (ttl -1 when the kernel gave none): the non-blocking socket is watched by a uv_poll_t on
//   Node's own loop, no threads. Without onMessage the socket only sends.
// .send(buffer, address, port) -> bytes sent; .localPort; .close() (idempotent).
// Errors never throw C++ exceptions: a JS Error is thrown with `code` = errno name
// (EADDRINUSE, EACCES, ...) and `syscall`.

#include "syserror.h"
#include "fdwatch.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

bool ParseAddr(int family, const std::string& s, int port, sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof(*out));
  if (family == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(out);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return s.empty() ? (v4->sin_addr.s_addr = htonl(INADDR_ANY), true) : inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(static_cast<uint16_t>(port));
  *len = sizeof(sockaddr_in6);
  if (s.empty()) {
    v6->sin6_addr = in6addr_any;
    return true;
  }
  // "fe80::1%eth0": a link-local address with its interface as scope (unnumbered BFD)
  std::string::size_type pct = s.find('%');
  std::string host = pct == std::string::npos ? s : s.substr(0, pct);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) != 1) return false;
  if (pct != std::string::npos) {
    unsigned int index = if_nametoindex(s.substr(pct + 1).c_str());
    if (index == 0) return false;
    v6->sin6_scope_id = index;
  }
  return true;
}

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {
                           InstanceMethod("send", &UdpSocket::Send),
                           InstanceMethod("close", &UdpSocket::Close),
                           InstanceAccessor("localPort", &UdpSocket::GetLocalPort, nullptr),
                       });
  }

  explicit UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsString() || !(info[5].IsFunction() || info[5].IsNull())) {
      Napi::TypeError::New(env, "UdpSocket(family, address, port, sendTtl, device, onMessage|null)")
          .ThrowAsJavaScriptException();
      return;
    }
    family_ = info[0].As<Napi::Number>().Int32Value();
    std::string addr = info[1].As<Napi::String>().Utf8Value();
    int port = info[2].As<Napi::Number>().Int32Value();
    int ttl = info[3].As<Napi::Number>().Int32Value();
    std::string device = info[4].As<Napi::String>().Utf8Value();
    if ((family_ != 4 && family_ != 6) || port < 0 || port > 65535 || ttl < 1 || ttl > 255 || device.size() >= IFNAMSIZ) {
      Napi::RangeError::New(env, "UdpSocket: family must be 4|6, port 0..65535, sendTtl 1..255, device < 16 chars")
          .ThrowAsJavaScriptException();
      return;
    }
    sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!ParseAddr(family_, addr, port, &ss, &sslen)) {
      Napi::TypeError::New(env, "UdpSocket: address is not an IPv" + std::to_string(family_) + " address: " + addr)
          .ThrowAsJavaScriptException();
      return;
    }
    fd_ = ::socket(family_ == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      mlb::ThrowErrnoCode(env, "socket", errno);
      return;
    }
    int one = 1;
    const char* failed = nullptr;
    if (family_ == 4) {
      if (setsockopt(fd_, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0) failed = "setsockopt(IP_TTL)";
      else if (setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &one, sizeof one) < 0) failed = "setsockopt(IP_RECVTTL)";
    } else {
      if (setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) failed = "setsockopt(IPV6_V6ONLY)";
      else if (setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) < 0) failed = "setsockopt(IPV6_UNICAST_HOPS)";
      else if (setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) < 0) failed = "setsockopt(IPV6_RECVHOPLIMIT)";
    }
    if (failed == nullptr && !device.empty() &&
        setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) < 0) {
      failed = "setsockopt(SO_BINDTODEVICE)";
    }
    if (failed == nullptr && ::bind(fd_, reinterpret_cast<sockaddr*>(&ss), sslen) < 0) failed = "bind";
    if (failed != nullptr) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      mlb::ThrowErrnoCode(env, failed, err);
      return;
    }
    env_ = env;
    if (info[5].IsFunction()) {
      poll_ = mlb::WatchReadable(env, fd_, this, &UdpSocket::OnReadable);
      if (poll_ == nullptr) {
        Shutdown();
        return;
      }
      onMessage_ = Napi::Persistent(info[5].As<Napi::Function>());
    }
    Ref();  // alive while open (released in Close)
  }

  ~UdpSocket() override { Shutdown(); }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<UdpSocket*>(handle->data);
    if (self == nullptr || self->fd_ < 0) return;
    if (status < 0) {
      mlb::RewatchAfterError(handle, self->fd_, &self->errors_, &UdpSocket::OnReadable);
      return;
    }
    self->errors_ = 0;
    self->Drain();
  }

  void Drain() {
    Napi::HandleScope scope(env_);
    unsigned char buf[2048];
    alignas(cmsghdr) unsigned char control[256];
    for (int i = 0; i < 64 && fd_ >= 0; i++) {
      sockaddr_storage from{};
      iovec iov{buf, sizeof buf};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = recvmsg(fd_, &msg, 0);
      if (n < 0) break;  // EAGAIN or a transient error (ICMP): wait for the next readiness
      int ttl = -1;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
          int v = 0;
          std::memcpy(&v, CMSG_DATA(c), sizeof v);
          ttl = v;
        }
      }
      char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = {0};
      int port = 0;
      if (from.ss_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&from);
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        port = ntohs(a->sin_port);
      } else if (from.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&from);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        port = ntohs(a->sin6_port);
        // link-local sources carry their interface ("fe80::1%eth0"): the same address may be
        // a different neighbor on every link
        char ifname[IF_NAMESIZE] = {0};
        if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) && a->sin6_scope_id != 0 && if_indextoname(a->sin6_scope_id, ifname) != nullptr) {
          std::strncat(text, "%", sizeof text - std::strlen(text) - 1);
          std::strncat(text, ifname, sizeof text - std::strlen(text) - 1);
        }
      }
      // Truncated datagrams are delivered as received (the codec rejects them by length).
      Napi::Buffer<unsigned char> data = Napi::Buffer<unsigned char>::Copy(env_, buf, static_cast<size_t>(n));
      onMessage_.Call({data, Napi::String::New(env_, text), Napi::Number::New(env_, port), Napi::Number::New(env_, ttl)});
      if (env_.IsExceptionPending()) {
        Napi::Error e = env_.GetAndClearPendingException();
        napi_fatal_exception(env_, e.Value());
        break;
      }
    }
  }

  void Shutdown() {
    mlb::CloseWatch(&poll_);
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsBuffer() || !info[1].IsString() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "send(buffer, address, port)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd_ < 0) {
      Napi::Error::New(env, "socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto b = info[0].As<Napi::Buffer<unsigned char>>();
    int port = info[2].As<Napi::Number>().Int32Value();
    sockaddr_storage ss;
    socklen_t len = 0;
    std::string addr = info[1].As<Napi::String>().Utf8Value();
    if (addr.empty() || port <= 0 || port > 65535 || !ParseAddr(family_, addr, port, &ss, &len)) {
      Napi::TypeError::New(env, "send: bad destination " + addr).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ssize_t n = sendto(fd_, b.Data(), b.Length(), 0, reinterpret_cast<sockaddr*>(&ss), len);
    if (n < 0) {
      mlb::ThrowErrnoCode(env, "sendto", errno);
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasOpen = fd_ >= 0;
    Shutdown();
    if (wasOpen) {
      if (!onMessage_.IsEmpty()) onMessage_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value GetLocalPort(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return Napi::Number::New(env, -1);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return Napi::Number::New(env, -1);
    int port = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                       : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return Napi::Number::New(env, port);
  }

  int fd_ = -1;
  int family_ = 4;
  int errors_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onMessage_;
  Napi::Env env_ = Napi::Env(nullptr);
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpSocket", UdpSocket::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(metallb_udp, Init)
