// metallb_packet: raw Ethernet frames for the Layer 2 responders (Linux only).
//
// PacketSocket(ifname, ethertype, onFrame[, icmpv6Types]): an AF_PACKET/SOCK_RAW socket bound to
// one interface and one ethertype (0x0806 ARP, 0x86dd IPv6; IPv6 sockets see only the ICMPv6
// types listed, default [135] Neighbor Solicitation). Received frames (whole Ethernet frames, never the
// ones this host sends) are delivered to onFrame(buffer) on the main thread: the socket is
// non-blocking and watched by a uv_poll_t on Node's own loop, so no threads are involved.
// send(buffer) transmits one whole Ethernet frame; addMembership(mac) / dropMembership(mac)
// make the interface accept a multicast MAC (solicited-node groups 33:33:ff:xx:xx:xx).
// interfaceInfo(ifname) returns { index, mac, flags, mtu, driver } via ioctl/ethtool.
//
// Errors never throw C++ exceptions (NAPI_DISABLE_CPP_EXCEPTIONS): a JS Error is thrown with
// the errno text, e.g. "socket(AF_PACKET): Operation not permitted".

#include "fdwatch.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <string>
#include <vector>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

std::string ErrnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

bool ThrowErrno(Napi::Env env, const char* what, int err) {
  Napi::Error::New(env, ErrnoText(what, err)).ThrowAsJavaScriptException();
  return false;
}

bool IfNameOk(const std::string& name) {
  return !name.empty() && name.size() < IFNAMSIZ && name.find('/') == std::string::npos;
}

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod("send", &PacketSocket::Send),
                           InstanceMethod("close", &PacketSocket::Close),
                           InstanceMethod("addMembership", &PacketSocket::AddMembership),
                           InstanceMethod("dropMembership", &PacketSocket::DropMembership),
                           InstanceAccessor("ifindex", &PacketSocket::GetIfindex, nullptr),
                       });
  }

  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "PacketSocket(ifname: string, ethertype: number, onFrame: function)")
          .ThrowAsJavaScriptException();
      return;
    }
    std::string ifname = info[0].As<Napi::String>().Utf8Value();
    int32_t ethertype = info[1].As<Napi::Number>().Int32Value();
    if (!IfNameOk(ifname)) {
      Napi::Error::New(env, "invalid interface name: " + ifname).ThrowAsJavaScriptException();
      return;
    }
    if (ethertype <= 0 || ethertype > 0xffff) {
      Napi::RangeError::New(env, "ethertype out of range").ThrowAsJavaScriptException();
      return;
    }
    ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) {
      ThrowErrno(env, ("if_nametoindex(" + ifname + ")").c_str(), errno);
      return;
    }
    proto_ = htons(static_cast<uint16_t>(ethertype));
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto_);
    if (fd_ < 0) {
      ThrowErrno(env, "socket(AF_PACKET)", errno);
      return;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = proto_;
    sll.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      ThrowErrno(env, ("bind(" + ifname + ")").c_str(), err);
      return;
    }
    std::vector<uint8_t> icmpTypes;
    if (info.Length() >= 4 && info[3].IsArray()) {
      auto arr = info[3].As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length() && i < 16; i++) {
        Napi::Value v = arr.Get(i);
        if (v.IsNumber()) icmpTypes.push_back(static_cast<uint8_t>(v.As<Napi::Number>().Uint32Value() & 0xff));
      }
    }
    if (icmpTypes.empty()) icmpTypes.push_back(135);
    if (ethertype == 0x86dd && !AttachNSFilter(env, icmpTypes)) return;
    poll_ = mlb::WatchReadable(env, fd_, this, &PacketSocket::OnReadable);
    if (poll_ == nullptr) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    onFrame_ = Napi::Persistent(info[2].As<Napi::Function>());
    env_ = env;
    // Keep the JS object alive while the socket is open (released in Close).
    Ref();
  }

  ~PacketSocket() override { Shutdown(); }

  // IPv6 sockets would otherwise see every IPv6 frame the interface carries (service traffic
  // included). A classic socket filter keeps only the ICMPv6 types asked for (default: Neighbor
  // Solicitations, 135): ethertype 0x86dd, next header 58 directly after the fixed IPv6 header,
  // ICMPv6 type in the list.
  bool AttachNSFilter(Napi::Env env, const std::vector<uint8_t>& types) {
    const size_t n = types.size();
    std::vector<sock_filter> code;
    code.push_back({0x28, 0, 0, 12});                                         // ldh [12]  ethertype
    code.push_back({0x15, 0, static_cast<uint8_t>(n + 3), 0x86dd});            // jeq #0x86dd, next, drop
    code.push_back({0x30, 0, 0, 20});                                         // ldb [20]  IPv6 next header
    code.push_back({0x15, 0, static_cast<uint8_t>(n + 1), 58});                // jeq #58 (ICMPv6), next, drop
    code.push_back({0x30, 0, 0, 54});                                         // ldb [54]  ICMPv6 type
    for (size_t i = 0; i < n; i++) code.push_back({0x15, static_cast<uint8_t>(n - i), 0, types[i]});  // jeq type, accept, next
    code.push_back({0x06, 0, 0, 0});                                          // drop: ret #0
    code.push_back({0x06, 0, 0, 0x0000ffff});                                 // accept: ret #65535
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(code.size());
    prog.filter = code.data();
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      return ThrowErrno(env, "SO_ATTACH_FILTER", err);
    }
    // Frames queued between socket() and the filter may be anything: drop them.
    unsigned char junk[64];
    while (recv(fd_, junk, sizeof junk, MSG_DONTWAIT) >= 0) {
    }
    return true;
  }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<PacketSocket*>(handle->data);
    if (self == nullptr || self->fd_ < 0) return;
    if (status < 0) {
      mlb::RewatchAfterError(handle, self->fd_, &self->errors_, &PacketSocket::OnReadable);
      return;
    }
    self->errors_ = 0;
    self->Drain();
  }

  void Drain() {
    Napi::HandleScope scope(env_);
    unsigned char buf[9216];
    // Bounded batch so a flood cannot starve the loop; the poll fires again if more is queued.
    for (int i = 0; i < 64 && fd_ >= 0; i++) {
      sockaddr_ll from{};
      socklen_t fromlen = sizeof from;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) break;  // EAGAIN or a transient error: wait for the next readiness
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      Napi::Buffer<unsigned char> frame = Napi::Buffer<unsigned char>::Copy(env_, buf, static_cast<size_t>(n));
      Napi::Value ret = onFrame_.Call({frame});
      if (env_.IsExceptionPending()) {
        // Surface the exception as an uncaught one rather than losing it.
        Napi::Error e = env_.GetAndClearPendingException();
        napi_fatal_exception(env_, e.Value());
        break;
      }
      (void)ret;
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
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "send(frame: Buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd_ < 0) {
      Napi::Error::New(env, "socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto b = info[0].As<Napi::Buffer<unsigned char>>();
    if (b.Length() < 14) {
      Napi::RangeError::New(env, "frame shorter than an Ethernet header").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = proto_;
    to.sll_ifindex = ifindex_;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, b.Data(), 6);
    ssize_t n = sendto(fd_, b.Data(), b.Length(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (n < 0) {
      ThrowErrno(env, "sendto", errno);
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int op) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<unsigned char>>().Length() != 6) {
      Napi::TypeError::New(env, "expected a 6-byte MAC Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd_ < 0) {
      Napi::Error::New(env, "socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    packet_mreq mr{};
    mr.mr_ifindex = ifindex_;
    mr.mr_type = PACKET_MR_MULTICAST;
    mr.mr_alen = 6;
    std::memcpy(mr.mr_address, info[0].As<Napi::Buffer<unsigned char>>().Data(), 6);
    if (setsockopt(fd_, SOL_PACKET, op, &mr, sizeof mr) < 0) {
      ThrowErrno(env, op == PACKET_ADD_MEMBERSHIP ? "PACKET_ADD_MEMBERSHIP" : "PACKET_DROP_MEMBERSHIP", errno);
    }
    return env.Undefined();
  }

  Napi::Value AddMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_ADD_MEMBERSHIP); }
  Napi::Value DropMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_DROP_MEMBERSHIP); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasOpen = fd_ >= 0;
    Shutdown();
    if (wasOpen) {
      onFrame_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value GetIfindex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }

  int fd_ = -1;
  int errors_ = 0;
  int ifindex_ = 0;
  uint16_t proto_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onFrame_;
  Napi::Env env_ = Napi::Env(nullptr);
};

Napi::Value InterfaceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "interfaceInfo(ifname: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!IfNameOk(name)) {
    Napi::Error::New(env, "invalid interface name: " + name).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, "socket(AF_INET)", errno);
    return env.Undefined();
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  Napi::Object out = Napi::Object::New(env);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, ("SIOCGIFINDEX(" + name + ")").c_str(), err);
    return env.Undefined();
  }
  out.Set("index", Napi::Number::New(env, ifr.ifr_ifindex));
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, ("SIOCGIFHWADDR(" + name + ")").c_str(), err);
    return env.Undefined();
  }
  out.Set("hwType", Napi::Number::New(env, ifr.ifr_hwaddr.sa_family));
  out.Set("mac", Napi::Buffer<unsigned char>::Copy(env, reinterpret_cast<unsigned char*>(ifr.ifr_hwaddr.sa_data), 6));
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    ThrowErrno(env, ("SIOCGIFFLAGS(" + name + ")").c_str(), err);
    return env.Undefined();
  }
  out.Set("flags", Napi::Number::New(env, static_cast<uint16_t>(ifr.ifr_flags)));
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) out.Set("mtu", Napi::Number::New(env, ifr.ifr_mtu));
  // Driver name via ethtool (veth, bridge, bonding, openvswitch, 802.1Q VLAN Support, ...).
  ethtool_drvinfo drv{};
  drv.cmd = ETHTOOL_GDRVINFO;
  ifr.ifr_data = reinterpret_cast<char*>(&drv);
  if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
    drv.driver[sizeof drv.driver - 1] = '\0';
    out.Set("driver", Napi::String::New(env, drv.driver));
  } else {
    out.Set("driver", Napi::String::New(env, ""));
  }
  ::close(fd);
  return out;
}

int PrefixLength(const sockaddr* mask) {
  if (mask == nullptr) return -1;
  const unsigned char* p = nullptr;
  size_t n = 0;
  if (mask->sa_family == AF_INET) {
    p = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(mask)->sin_addr);
    n = 4;
  } else if (mask->sa_family == AF_INET6) {
    p = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr);
    n = 16;
  } else {
    return -1;
  }
  int bits = 0;
  for (size_t i = 0; i < n; i++) bits += __builtin_popcount(p[i]);
  return bits;
}

// Every IPv4/IPv6 address of every interface, including interfaces that are down (libuv's
// os.networkInterfaces() leaves those out): [{ name, family: 4|6, address, prefixLength }].
Napi::Value Addresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) < 0) {
    ThrowErrno(env, "getifaddrs", errno);
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_name == nullptr) continue;
    int fam = a->ifa_addr->sa_family;
    if (fam != AF_INET && fam != AF_INET6) continue;
    char buf[INET6_ADDRSTRLEN] = {0};
    const void* src = fam == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr)
                                     : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr);
    if (inet_ntop(fam, src, buf, sizeof buf) == nullptr) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", Napi::String::New(env, a->ifa_name));
    o.Set("family", Napi::Number::New(env, fam == AF_INET ? 4 : 6));
    o.Set("address", Napi::String::New(env, buf));
    o.Set("prefixLength", Napi::Number::New(env, PrefixLength(a->ifa_netmask)));
    out.Set(i++, o);
  }
  freeifaddrs(list);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("addresses", Napi::Function::New(env, Addresses, "addresses"));
  exports.Set("PacketSocket", PacketSocket::Define(env));
  exports.Set("interfaceInfo", Napi::Function::New(env, InterfaceInfo, "interfaceInfo"));
  exports.Set("IFF_UP", Napi::Number::New(env, IFF_UP));
  exports.Set("IFF_RUNNING", Napi::Number::New(env, IFF_RUNNING));
  exports.Set("IFF_LOOPBACK", Napi::Number::New(env, IFF_LOOPBACK));
  return exports;
}

}  // namespace

NODE_API_MODULE(metallb_packet, Init)
