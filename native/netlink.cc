// metallb_netlink: the node's routing table over rtnetlink (Linux only), for routes learned
// over BGP. Every route written carries protocol 186 ("bgp" in /etc/iproute2/rt_protos); a
// route of any other protocol is never replaced or deleted (the kernel matches the protocol
// on delete; replace is only used for a prefix we installed, see src/routes/kernel.ts).
//
//   add(route, replace)        RTM_NEWROUTE, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL)
//   remove(route)              RTM_DELROUTE matching destination, table, metric and protocol 186
//   list(family, table)        dump of the routes with protocol 186 in that table
//   ifindex(name)              if_nametoindex (0 when unknown)
//   lookup(family, address)    RTM_GETROUTE with RTM_F_FIB_MATCH (`ip route get ADDR fibmatch`):
//                              the route the kernel would forward `address` with, as a route
//                              object plus protocol, type and oif; throws ENETUNREACH etc. when
//                              there is none (used to resolve multi-hop BGP next hops)
//
// route = { family: 4|6, dst: string, prefixLen, table, metric,
//           nexthops: [{ gateway: string, ifindex: number }] }   (2+ next hops = RTA_MULTIPATH)
// Calls are synchronous (one request, one acknowledgement on a private socket; microseconds).
// Errors are thrown as JS Errors with `code` = errno name and `errno`.
#include <napi.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr unsigned char kProtoBgp = 186;

const char* ErrnoName(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENODEV: return "ENODEV";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}

void ThrowErrno(Napi::Env env, const std::string& what, int e) {
  Napi::Error err = Napi::Error::New(env, what + ": " + std::strerror(e));
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("errno", Napi::Number::New(env, e));
  err.ThrowAsJavaScriptException();
}

void ThrowType(Napi::Env env, const char* msg) { Napi::TypeError::New(env, msg).ThrowAsJavaScriptException(); }

// A growable netlink message.
class Msg {
 public:
  explicit Msg(size_t hdr) : buf_(NLMSG_SPACE(hdr), 0) {
    Hdr()->nlmsg_len = NLMSG_LENGTH(hdr);
  }
  nlmsghdr* Hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  void* Body() { return NLMSG_DATA(Hdr()); }
  // Appends an attribute; returns its offset (for nesting).
  size_t Attr(unsigned short type, const void* data, size_t len) {
    size_t off = NLMSG_ALIGN(Hdr()->nlmsg_len);
    size_t total = off + RTA_SPACE(len);
    buf_.resize(total, 0);
    auto* rta = reinterpret_cast<rtattr*>(buf_.data() + off);
    rta->rta_type = type;
    rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    if (len > 0) std::memcpy(RTA_DATA(rta), data, len);
    Hdr()->nlmsg_len = static_cast<uint32_t>(total);
    return off;
  }
  void U32(unsigned short type, uint32_t v) { Attr(type, &v, sizeof(v)); }
  // Appends raw bytes (already formatted) as the payload of the attribute at `off`.
  void Extend(size_t off, const std::vector<char>& bytes) {
    size_t end = NLMSG_ALIGN(Hdr()->nlmsg_len);
    buf_.resize(end + NLMSG_ALIGN(bytes.size()), 0);
    std::memcpy(buf_.data() + end, bytes.data(), bytes.size());
    Hdr()->nlmsg_len = static_cast<uint32_t>(end + NLMSG_ALIGN(bytes.size()));
    auto* rta = reinterpret_cast<rtattr*>(buf_.data() + off);
    rta->rta_len = static_cast<unsigned short>(Hdr()->nlmsg_len - off);
  }
  const char* Data() const { return buf_.data(); }
  size_t Len() { return Hdr()->nlmsg_len; }

 private:
  std::vector<char> buf_;
};

class Socket {
 public:
  Socket() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) return;
    int one = 1;
    setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
      int e = errno;
      close(fd_);
      fd_ = -1;
      errno = e;
    }
  }
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

bool SendAll(int fd, Msg& m) {
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = sendto(fd, m.Data(), m.Len(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    if (n >= 0) return true;
    if (errno != EINTR) return false;
  }
}

ssize_t Recv(int fd, std::vector<char>& buf) {
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n >= 0 || errno != EINTR) return n;
  }
}

// Sends a request and waits for its acknowledgement; returns 0 or the positive errno.
int Transact(Msg& m) {
  Socket s;
  if (s.fd() < 0) return errno;
  m.Hdr()->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  m.Hdr()->nlmsg_seq = 1;
  if (!SendAll(s.fd(), m)) return errno;
  std::vector<char> buf(65536);
  for (;;) {
    ssize_t n = Recv(s.fd(), buf);
    if (n < 0) return errno;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        return -err->error;
      }
    }
  }
}

struct Nexthop {
  std::string gateway;
  uint32_t ifindex = 0;
};

struct Route {
  int family = 4;
  std::string dst;
  uint32_t prefixLen = 0;
  uint32_t table = RT_TABLE_MAIN;
  uint32_t metric = 0;
  std::vector<Nexthop> nexthops;
};

int AfOf(int family) { return family == 6 ? AF_INET6 : AF_INET; }
size_t AddrLen(int family) { return family == 6 ? 16 : 4; }

bool ParseRoute(Napi::Env env, const Napi::Value& v, Route* r, bool withNexthops) {
  if (!v.IsObject()) {
    ThrowType(env, "route must be an object");
    return false;
  }
  auto o = v.As<Napi::Object>();
  r->family = o.Get("family").ToNumber().Int32Value();
  if (r->family != 4 && r->family != 6) {
    ThrowType(env, "route.family must be 4 or 6");
    return false;
  }
  r->dst = o.Get("dst").ToString().Utf8Value();
  r->prefixLen = o.Get("prefixLen").ToNumber().Uint32Value();
  r->table = o.Get("table").ToNumber().Uint32Value();
  r->metric = o.Get("metric").ToNumber().Uint32Value();
  if (r->prefixLen > (r->family == 6 ? 128u : 32u) || r->table == 0) {
    ThrowType(env, "route.prefixLen or route.table out of range");
    return false;
  }
  if (!withNexthops) return true;
  auto nh = o.Get("nexthops");
  if (!nh.IsArray() || nh.As<Napi::Array>().Length() == 0) {
    ThrowType(env, "route.nexthops must be a non-empty array");
    return false;
  }
  auto arr = nh.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto e = arr.Get(i).As<Napi::Object>();
    Nexthop h;
    h.gateway = e.Get("gateway").ToString().Utf8Value();
    h.ifindex = e.Get("ifindex").ToNumber().Uint32Value();
    r->nexthops.push_back(h);
  }
  return true;
}

bool Pton(int family, const std::string& s, unsigned char* out) { return inet_pton(AfOf(family), s.c_str(), out) == 1; }

// The gateway attribute of a next hop: RTA_GATEWAY with an address of the route's family, or
// for an IPv4 route with an IPv6 next hop (RFC 8950, unnumbered BGP) RTA_VIA { AF_INET6, addr }.
// Returns the attribute length (0 = not an address of either kind).
size_t GatewayAttr(int family, const std::string& s, unsigned short* type, unsigned char* out) {
  if (Pton(family, s, out)) {
    *type = RTA_GATEWAY;
    return AddrLen(family);
  }
  if (family == 4 && inet_pton(AF_INET6, s.c_str(), out + sizeof(unsigned short)) == 1) {
    unsigned short af = AF_INET6;
    std::memcpy(out, &af, sizeof af);
    *type = RTA_VIA;
    return sizeof(unsigned short) + 16;
  }
  return 0;
}

// Fills rtmsg + RTA_TABLE/RTA_DST/RTA_PRIORITY.
bool Base(Msg& m, const Route& r, unsigned char scope) {
  auto* rt = static_cast<rtmsg*>(m.Body());
  rt->rtm_family = static_cast<unsigned char>(AfOf(r.family));
  rt->rtm_dst_len = static_cast<unsigned char>(r.prefixLen);
  rt->rtm_table = static_cast<unsigned char>(r.table < 256 ? r.table : static_cast<uint32_t>(RT_TABLE_UNSPEC));
  rt->rtm_protocol = kProtoBgp;
  rt->rtm_scope = scope;
  rt->rtm_type = RTN_UNICAST;
  m.U32(RTA_TABLE, r.table);
  unsigned char dst[16];
  if (!Pton(r.family, r.dst, dst)) return false;
  m.Attr(RTA_DST, dst, AddrLen(r.family));
  if (r.metric != 0) m.U32(RTA_PRIORITY, r.metric);
  return true;
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Route r;
  if (!ParseRoute(env, info[0], &r, true)) return env.Undefined();
  bool replace = info.Length() > 1 && info[1].ToBoolean().Value();
  Msg m(sizeof(rtmsg));
  m.Hdr()->nlmsg_type = RTM_NEWROUTE;
  m.Hdr()->nlmsg_flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
  if (!Base(m, r, RT_SCOPE_UNIVERSE)) {
    ThrowType(env, "route.dst is not an address of route.family");
    return env.Undefined();
  }
  unsigned char gw[20];
  unsigned short gwType = RTA_GATEWAY;
  if (r.nexthops.size() == 1) {
    const Nexthop& h = r.nexthops[0];
    size_t gwLen = GatewayAttr(r.family, h.gateway, &gwType, gw);
    if (gwLen == 0) {
      ThrowType(env, "nexthop gateway is not an address of route.family (nor IPv6 for an IPv4 route)");
      return env.Undefined();
    }
    m.Attr(gwType, gw, gwLen);
    if (h.ifindex != 0) m.U32(RTA_OIF, h.ifindex);
  } else {
    std::vector<char> bytes;
    for (const Nexthop& h : r.nexthops) {
      size_t gwLen = GatewayAttr(r.family, h.gateway, &gwType, gw);
      if (gwLen == 0) {
        ThrowType(env, "nexthop gateway is not an address of route.family (nor IPv6 for an IPv4 route)");
        return env.Undefined();
      }
      size_t start = bytes.size();
      size_t attrLen = RTA_SPACE(gwLen);
      bytes.resize(start + RTNH_ALIGN(sizeof(rtnexthop) + attrLen), 0);
      auto* nh = reinterpret_cast<rtnexthop*>(bytes.data() + start);
      nh->rtnh_len = static_cast<unsigned short>(sizeof(rtnexthop) + attrLen);
      nh->rtnh_ifindex = static_cast<int>(h.ifindex);
      auto* a = reinterpret_cast<rtattr*>(bytes.data() + start + sizeof(rtnexthop));
      a->rta_type = gwType;
      a->rta_len = static_cast<unsigned short>(RTA_LENGTH(gwLen));
      std::memcpy(RTA_DATA(a), gw, gwLen);
    }
    size_t off = m.Attr(RTA_MULTIPATH, nullptr, 0);
    m.Extend(off, bytes);
  }
  int e = Transact(m);
  if (e != 0) ThrowErrno(env, std::string(replace ? "replace" : "add") + " route " + r.dst + "/" + std::to_string(r.prefixLen), e);
  return env.Undefined();
}

Napi::Value Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Route r;
  if (!ParseRoute(env, info[0], &r, false)) return env.Undefined();
  Msg m(sizeof(rtmsg));
  m.Hdr()->nlmsg_type = RTM_DELROUTE;
  if (!Base(m, r, RT_SCOPE_NOWHERE)) {
    ThrowType(env, "route.dst is not an address of route.family");
    return env.Undefined();
  }
  int e = Transact(m);
  if (e != 0) ThrowErrno(env, "delete route " + r.dst + "/" + std::to_string(r.prefixLen), e);
  return env.Undefined();
}

std::string Ntop(int af, const void* p) {
  char s[INET6_ADDRSTRLEN] = {0};
  inet_ntop(af, p, s, sizeof(s));
  return s;
}

// RTA_VIA: { family (unsigned short), address }.
std::string ViaNtop(const rtattr* a) {
  if (RTA_PAYLOAD(a) < sizeof(unsigned short)) return "";
  unsigned short af = 0;
  std::memcpy(&af, RTA_DATA(a), sizeof af);
  size_t need = af == AF_INET6 ? 16 : 4;
  if (RTA_PAYLOAD(a) < sizeof(unsigned short) + need) return "";
  return Ntop(af, static_cast<const unsigned char*>(RTA_DATA(a)) + sizeof(unsigned short));
}

Napi::Object RouteObject(Napi::Env env, nlmsghdr* h) {
  auto* rt = static_cast<rtmsg*>(NLMSG_DATA(h));
  int af = rt->rtm_family;
  auto o = Napi::Object::New(env);
  o.Set("family", Napi::Number::New(env, af == AF_INET6 ? 6 : 4));
  o.Set("prefixLen", Napi::Number::New(env, rt->rtm_dst_len));
  uint32_t table = rt->rtm_table;
  uint32_t metric = 0;
  std::string dst = af == AF_INET6 ? "::" : "0.0.0.0";
  auto nexthops = Napi::Array::New(env);
  uint32_t nIdx = 0;
  std::string gateway;
  uint32_t oif = 0;
  int len = static_cast<int>(RTM_PAYLOAD(h));
  for (auto* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case RTA_TABLE: table = *static_cast<uint32_t*>(RTA_DATA(a)); break;
      case RTA_DST: dst = Ntop(af, RTA_DATA(a)); break;
      case RTA_PRIORITY: metric = *static_cast<uint32_t*>(RTA_DATA(a)); break;
      case RTA_GATEWAY: gateway = Ntop(af, RTA_DATA(a)); break;
      case RTA_VIA: gateway = ViaNtop(a); break;
      case RTA_OIF: oif = *static_cast<uint32_t*>(RTA_DATA(a)); break;
      case RTA_MULTIPATH: {
        auto* nh = static_cast<rtnexthop*>(RTA_DATA(a));
        int rem = static_cast<int>(RTA_PAYLOAD(a));
        while (RTNH_OK(nh, rem)) {
          auto e = Napi::Object::New(env);
          std::string g;
          int alen = nh->rtnh_len - static_cast<int>(sizeof(rtnexthop));
          for (auto* b = RTNH_DATA(nh); RTA_OK(b, alen); b = RTA_NEXT(b, alen)) {
            if (b->rta_type == RTA_GATEWAY) g = Ntop(af, RTA_DATA(b));
            else if (b->rta_type == RTA_VIA) g = ViaNtop(b);
          }
          e.Set("gateway", Napi::String::New(env, g));
          e.Set("ifindex", Napi::Number::New(env, nh->rtnh_ifindex));
          nexthops.Set(nIdx++, e);
          rem -= NLMSG_ALIGN(nh->rtnh_len);
          nh = RTNH_NEXT(nh);
        }
        break;
      }
      default: break;
    }
  }
  if (nIdx == 0 && !gateway.empty()) {
    auto e = Napi::Object::New(env);
    e.Set("gateway", Napi::String::New(env, gateway));
    e.Set("ifindex", Napi::Number::New(env, oif));
    nexthops.Set(nIdx++, e);
  }
  o.Set("dst", Napi::String::New(env, dst));
  o.Set("table", Napi::Number::New(env, table));
  o.Set("metric", Napi::Number::New(env, metric));
  o.Set("nexthops", nexthops);
  o.Set("protocol", Napi::Number::New(env, rt->rtm_protocol));
  o.Set("type", Napi::Number::New(env, rt->rtm_type));
  o.Set("oif", Napi::Number::New(env, oif));
  return o;
}

// False (with a JS error thrown) when the netlink socket could not be opened.
bool Opened(Napi::Env env, const Socket& s) {
  if (s.fd() >= 0) return true;
  ThrowErrno(env, "netlink socket", errno);
  return false;
}

// An RTM_GETROUTE request for `family` (rtmsg zeroed otherwise).
Msg GetRouteRequest(int family, uint16_t flags, uint32_t seq) {
  Msg m(sizeof(rtmsg));
  m.Hdr()->nlmsg_type = RTM_GETROUTE;
  m.Hdr()->nlmsg_flags = flags;
  m.Hdr()->nlmsg_seq = seq;
  static_cast<rtmsg*>(m.Body())->rtm_family = static_cast<unsigned char>(AfOf(family));
  return m;
}

Napi::Value Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = info[0].ToNumber().Int32Value();
  std::string address = info[1].ToString().Utf8Value();
  if (family != 4 && family != 6) {
    ThrowType(env, "family must be 4 or 6");
    return env.Undefined();
  }
  unsigned char addr[16];
  if (!Pton(family, address, addr)) {
    ThrowType(env, "address is not an address of family");
    return env.Undefined();
  }
  Socket s;
  if (!Opened(env, s)) return env.Undefined();
  Msg m = GetRouteRequest(family, NLM_F_REQUEST, 3);
  auto* rt = static_cast<rtmsg*>(m.Body());
  rt->rtm_dst_len = static_cast<unsigned char>(AddrLen(family) * 8);
  rt->rtm_flags = RTM_F_FIB_MATCH;
  m.Attr(RTA_DST, addr, AddrLen(family));
  if (!SendAll(s.fd(), m)) {
    ThrowErrno(env, "route get", errno);
    return env.Undefined();
  }
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t got = Recv(s.fd(), buf);
    if (got < 0) {
      ThrowErrno(env, "route get " + address, errno);
      return env.Undefined();
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(got)); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) continue;
        ThrowErrno(env, "route get " + address, -err->error);
        return env.Undefined();
      }
      if (h->nlmsg_type == RTM_NEWROUTE) return RouteObject(env, h);
    }
  }
}

Napi::Value List(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = info[0].ToNumber().Int32Value();
  uint32_t table = info[1].ToNumber().Uint32Value();
  if (family != 4 && family != 6) {
    ThrowType(env, "family must be 4 or 6");
    return env.Undefined();
  }
  Socket s;
  if (!Opened(env, s)) return env.Undefined();
  Msg m = GetRouteRequest(family, NLM_F_REQUEST | NLM_F_DUMP, 2);
  if (!SendAll(s.fd(), m)) {
    ThrowErrno(env, "route dump", errno);
    return env.Undefined();
  }
  auto out = Napi::Array::New(env);
  uint32_t n = 0;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t got = Recv(s.fd(), buf);
    if (got < 0) {
      ThrowErrno(env, "route dump", errno);
      return env.Undefined();
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(got)); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_type == NLMSG_DONE) return out;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) continue;
        ThrowErrno(env, "route dump", -err->error);
        return env.Undefined();
      }
      if (h->nlmsg_type != RTM_NEWROUTE) continue;
      auto* rt = static_cast<rtmsg*>(NLMSG_DATA(h));
      if (rt->rtm_protocol != kProtoBgp || rt->rtm_type != RTN_UNICAST) continue;
      auto o = RouteObject(env, h);
      if (o.Get("table").ToNumber().Uint32Value() != table) continue;
      out.Set(n++, o);
    }
  }
}

Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  std::string name = info[0].ToString().Utf8Value();
  return Napi::Number::New(info.Env(), if_nametoindex(name.c_str()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("remove", Napi::Function::New(env, Remove));
  exports.Set("list", Napi::Function::New(env, List));
  exports.Set("ifindex", Napi::Function::New(env, IfIndex));
  exports.Set("lookup", Napi::Function::New(env, Lookup));
  exports.Set("PROTO_BGP", Napi::Number::New(env, kProtoBgp));
  return exports;
}

}  // namespace

NODE_API_MODULE(metallb_netlink, Init)
