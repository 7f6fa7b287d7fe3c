// The kernel's numbers, exported so TypeScript never hard-codes one.
#include "addon.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace greenhub {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define K(name) c.Set(#name, Napi::Number::New(env, double(int32_t(name))))
  K(EPOLLIN); K(EPOLLOUT); K(EPOLLPRI); K(EPOLLERR); K(EPOLLHUP); K(EPOLLRDHUP);
  K(EPOLLET); K(EPOLLONESHOT); K(EPOLLEXCLUSIVE); K(EPOLLWAKEUP);
  K(EPOLL_CTL_ADD); K(EPOLL_CTL_MOD); K(EPOLL_CTL_DEL);
  K(POLLIN); K(POLLOUT); K(POLLPRI); K(POLLERR); K(POLLHUP); K(POLLRDHUP); K(POLLNVAL);
  K(AF_INET); K(AF_INET6); K(AF_UNIX);
  K(SOCK_STREAM); K(SOCK_DGRAM);
  K(SOL_SOCKET); K(SO_REUSEADDR); K(SO_REUSEPORT); K(SO_KEEPALIVE); K(SO_ERROR);
  K(SO_RCVBUF); K(SO_SNDBUF); K(SO_TYPE); K(SO_ACCEPTCONN); K(SO_PASSCRED); K(SO_BROADCAST);
  K(MSG_OOB);
  K(IPPROTO_TCP); K(IPPROTO_IPV6); K(TCP_NODELAY); K(TCP_KEEPIDLE); K(IPV6_V6ONLY);
  K(TCP_KEEPINTVL); K(TCP_KEEPCNT); K(IPPROTO_IP); K(IP_TTL);
  K(SHUT_RD); K(SHUT_WR); K(SHUT_RDWR);
#undef K
  c.Freeze();
  exports.Set("constants", c);
}

}  // namespace greenhub
