// The syscalls green I/O needs, each non-blocking and close-on-exec where it creates an fd.
// Ints in, int out: each returns a count (or 0) on success and -errno on failure; EAGAIN is a
// value, not an exception. Byte ranges are checked against their buffer (RangeError).
// No wrapper can raise SIGPIPE: sockets are sent to with MSG_NOSIGNAL, and write/writev block
// the signal around the call (NoSigpipe).
#include "addon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace greenhub {

// The most bytes one call hands the kernel. Linux itself stops at 0x7ffff000 per read/write;
// a round 1 GiB keeps every result well inside an int, and callers already resume after a
// partial count.
static constexpr size_t kMaxIo = size_t(1) << 30;

// (buf, offset, length) at args i..i+2, checked to lie inside buf; offset and length may be
// anything up to Number.MAX_SAFE_INTEGER (a buffer can be larger than 2 GiB). *n is capped
// at kMaxIo.
static bool ArgRange(const Napi::CallbackInfo& info, size_t i, uint8_t** p, size_t* n) {
  uint8_t* data;
  size_t len;
  uint64_t off, count;
  if (!ArgBytes(info, i, "buffer", &data, &len) || !ArgSize(info, i + 1, "offset", &off) ||
      !ArgSize(info, i + 2, "length", &count)) {
    return false;
  }
  // Both are below 2^53, so the sum cannot wrap.
  if (off + count > uint64_t(len)) {
    Throw(info.Env(), ErrorKind::Range,
          "offset " + std::to_string(off) + " and length " + std::to_string(count) +
              " do not fit in a buffer of " + std::to_string(len) + " bytes");
    return false;
  }
  *p = data + off;
  *n = std::min(size_t(count), kMaxIo);
  return true;
}

// Node ignores SIGPIPE, but once a process.on('SIGPIPE') listener is added and removed the
// disposition is SIG_DFL again, and a write to a pipe whose reader is gone would kill the
// process (exit 141) instead of returning -EPIPE. Sockets take MSG_NOSIGNAL; write/writev
// (pipes, ttys, anything) have no such flag, so this blocks SIGPIPE in the calling thread for
// the call. The kernel sends that SIGPIPE to this thread, so on EPIPE it is pending here: take
// it off with a zero-timeout sigtimedwait before the old mask comes back, or it would be
// delivered at once. (If the caller had SIGPIPE blocked already, the pending signal is theirs
// to handle, and is left alone.)
template <typename F>
static ssize_t NoSigpipe(F f) {
  sigset_t pipe, old;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  ssize_t r = RetryEintr(f);
  int e = errno;
  if (r < 0 && e == EPIPE && !sigismember(&old, SIGPIPE)) {
    const timespec zero = {0, 0};
    RetryEintr([&] { return sigtimedwait(&pipe, nullptr, &zero); });
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = e;
  return r;
}

// Builds a sockaddr from (family, host, port); -EINVAL / -EAFNOSUPPORT / -ENAMETOOLONG.
static int MakeAddr(int family, const std::string& host, int port, sockaddr_storage* ss,
                    socklen_t* len) {
  memset(ss, 0, sizeof(*ss));
  if (family == AF_INET || family == AF_INET6) {
    if (port < 0 || port > 65535) return -EINVAL;
  }
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) return -EINVAL;
    *len = sizeof(*sin);
    return 0;
  }
  if (family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(uint16_t(port));
    std::string addr = host;
    size_t pct = addr.find('%');
    if (pct != std::string::npos) {  // fe80::1%eth0
      std::string scope = addr.substr(pct + 1);
      addr.resize(pct);
      unsigned idx = if_nametoindex(scope.c_str());
      if (idx == 0) idx = unsigned(strtoul(scope.c_str(), nullptr, 10));
      sin6->sin6_scope_id = idx;
    }
    if (inet_pton(AF_INET6, addr.c_str(), &sin6->sin6_addr) != 1) return -EINVAL;
    *len = sizeof(*sin6);
    return 0;
  }
  if (family == AF_UNIX) {
    auto* sun = reinterpret_cast<sockaddr_un*>(ss);
    sun->sun_family = AF_UNIX;
    // A leading NUL names an abstract socket; its length is exact, not NUL-terminated.
    bool abstract = !host.empty() && host[0] == '\0';
    if (host.empty() || host.size() + (abstract ? 0 : 1) > sizeof(sun->sun_path)) {
      return host.empty() ? -EINVAL : -ENAMETOOLONG;
    }
    memcpy(sun->sun_path, host.data(), host.size());
    *len = socklen_t(offsetof(sockaddr_un, sun_path) + host.size() + (abstract ? 0 : 1));
    return 0;
  }
  return -EAFNOSUPPORT;
}

static Napi::Value AddrToJs(Napi::Env env, const sockaddr_storage& ss, socklen_t len) {
  Napi::Object o = Napi::Object::New(env);
  char buf[INET6_ADDRSTRLEN + 16] = {0};
  o.Set("family", Int(env, ss.ss_family));
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    o.Set("address", Napi::String::New(env, buf));
    o.Set("port", Int(env, ntohs(sin->sin_port)));
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    o.Set("address", Napi::String::New(env, buf));
    o.Set("port", Int(env, ntohs(sin6->sin6_port)));
  } else if (ss.ss_family == AF_UNIX) {
    auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
    size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (n > 0 && sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
    o.Set("address", Napi::String::New(env, sun->sun_path, n));
    o.Set("port", Int(env, 0));
  } else {
    o.Set("address", Napi::String::New(env, ""));
    o.Set("port", Int(env, 0));
  }
  return o;
}

// Reads (family, host, port) at args i..i+2 into a sockaddr; returns false after a throw, and
// sets *err to -errno for an address the kernel could not take.
static bool ArgAddr(const Napi::CallbackInfo& info, size_t i, sockaddr_storage* ss,
                    socklen_t* len, int* err) {
  int32_t family, port;
  std::string host;
  if (!ArgInt(info, i, "family", &family) || !ArgString(info, i + 1, "address", &host) ||
      !ArgInt(info, i + 2, "port", &port)) {
    return false;
  }
  *err = MakeAddr(family, host, port, ss, len);
  return true;
}

// socket(domain, type) -> fd | -errno
static Napi::Value Socket(const Napi::CallbackInfo& info) {
  int32_t domain, type;
  if (!ArgInt(info, 0, "domain", &domain) || !ArgInt(info, 1, "type", &type)) return {};
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Int(info.Env(), -errno);
  GetData(info.Env())->Own(fd);
  return Int(info.Env(), fd);
}

// bind(fd, family, address, port) -> 0 | -errno (address is a path for AF_UNIX)
static Napi::Value Bind(const Napi::CallbackInfo& info) {
  int32_t fd;
  sockaddr_storage ss;
  socklen_t len = 0;
  int err = 0;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgAddr(info, 1, &ss, &len, &err)) return {};
  if (err) return Int(info.Env(), err);
  return Result(info.Env(), bind(fd, reinterpret_cast<sockaddr*>(&ss), len));
}

// connect(fd, family, address, port) -> 0 | -EINPROGRESS | -errno
static Napi::Value Connect(const Napi::CallbackInfo& info) {
  int32_t fd;
  sockaddr_storage ss;
  socklen_t len = 0;
  int err = 0;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgAddr(info, 1, &ss, &len, &err)) return {};
  if (err) return Int(info.Env(), err);
  int r = RetryEintr([&] { return connect(fd, reinterpret_cast<sockaddr*>(&ss), len); });
  return Result(info.Env(), r);
}

// listen(fd, backlog) -> 0 | -errno
static Napi::Value Listen(const Napi::CallbackInfo& info) {
  int32_t fd, backlog;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgInt(info, 1, "backlog", &backlog)) return {};
  return Result(info.Env(), listen(fd, backlog));
}

// accept4(fd) -> new fd (non-blocking, close-on-exec) | -errno. The peer's address is asked
// for later (getpeername) only by those who want it.
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  int c = RetryEintr([&] { return accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); });
  if (c < 0) return Int(info.Env(), -errno);
  GetData(info.Env())->Own(c);
  return Int(info.Env(), c);
}

// read(fd, buf, offset, length) -> bytes | -errno (0 at end of stream)
static Napi::Value Read(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* p;
  size_t n;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgRange(info, 1, &p, &n)) return {};
  ssize_t r = RetryEintr([&] { return read(fd, p, n); });
  return Result(info.Env(), long(r));
}

// write(fd, buf, offset, length) -> bytes | -errno (a closed reader is -EPIPE, never a
// SIGPIPE: see NoSigpipe).
static Napi::Value Write(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* p;
  size_t n;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgRange(info, 1, &p, &n)) return {};
  ssize_t r = NoSigpipe([&] { return write(fd, p, n); });
  return Result(info.Env(), long(r));
}

// send(fd, buf, offset, length) -> bytes | -errno: send(2) with MSG_NOSIGNAL, for sockets.
static Napi::Value Send(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* p;
  size_t n;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgRange(info, 1, &p, &n)) return {};
  ssize_t r = RetryEintr([&] { return send(fd, p, n, MSG_NOSIGNAL); });
  return Result(info.Env(), long(r));
}

// Fills iov from bufs[index..] starting `offset` bytes into bufs[index]: at most IOV_MAX
// entries and kMaxIo bytes in all (the last entry is cut short; the caller resumes after
// the partial count like after any other).
static bool ArgIov(const Napi::CallbackInfo& info, size_t i, struct iovec* iov, int* count) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) {
    Throw(env, ErrorKind::Type, "buffers must be an array of Buffers");
    return false;
  }
  Napi::Array arr = info[i].As<Napi::Array>();
  uint64_t index = 0, offset = 0;
  if (info.Length() > i + 1 && !info[i + 1].IsUndefined() &&
      !ArgSize(info, i + 1, "index", &index)) {
    return false;
  }
  if (info.Length() > i + 2 && !info[i + 2].IsUndefined() &&
      !ArgSize(info, i + 2, "offset", &offset)) {
    return false;
  }
  uint32_t total = arr.Length();
  if (index > total) {
    Throw(env, ErrorKind::Range,
          "index " + std::to_string(index) + " is past the end of buffers (length " +
              std::to_string(total) + ")");
    return false;
  }
  int n = 0;
  size_t bytes = 0;
  for (uint32_t k = uint32_t(index); k < total && n < IOV_MAX && bytes < kMaxIo; k++) {
    napi_value v = arr.Get(k);
    if (env.IsExceptionPending()) return false;  // a getter on the array threw
    bool is = false;
    napi_is_typedarray(env, v, &is);
    napi_typedarray_type type;
    void* ptr = nullptr;
    size_t len = 0;
    if (is) napi_get_typedarray_info(env, v, &type, &len, &ptr, nullptr, nullptr);
    if (!is || (type != napi_uint8_array && type != napi_int8_array &&
                type != napi_uint8_clamped_array)) {
      Throw(env, ErrorKind::Type,
            "buffers[" + std::to_string(k) + "] must be a Buffer or Uint8Array");
      return false;
    }
    size_t skip = 0;
    if (k == uint32_t(index)) {
      if (offset > uint64_t(len)) {
        Throw(env, ErrorKind::Range,
              "offset " + std::to_string(offset) + " is past the end of buffers[" +
                  std::to_string(k) + "] (" + std::to_string(len) + " bytes)");
        return false;
      }
      skip = size_t(offset);
    }
    iov[n].iov_base = static_cast<uint8_t*>(ptr) + skip;
    iov[n].iov_len = std::min(len - skip, kMaxIo - bytes);
    bytes += iov[n].iov_len;
    n++;
  }
  *count = n;
  return true;
}

// writev(fd, buffers, index = 0, offset = 0) -> bytes | -errno: writes buffers[index..],
// starting `offset` bytes into buffers[index] (so a partial write resumes without copying).
// A closed reader is -EPIPE, never a SIGPIPE (NoSigpipe).
static Napi::Value Writev(const Napi::CallbackInfo& info) {
  int32_t fd;
  static thread_local struct iovec iov[IOV_MAX];
  int n = 0;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgIov(info, 1, iov, &n)) return {};
  if (n == 0) return Int(info.Env(), 0);
  ssize_t r = NoSigpipe([&] { return writev(fd, iov, n); });
  return Result(info.Env(), long(r));
}

// sendv(fd, buffers, index = 0, offset = 0) -> bytes | -errno: writev's arguments, sent with
// sendmsg(2) and MSG_NOSIGNAL, for sockets.
static Napi::Value Sendv(const Napi::CallbackInfo& info) {
  int32_t fd;
  static thread_local struct iovec iov[IOV_MAX];
  int n = 0;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgIov(info, 1, iov, &n)) return {};
  if (n == 0) return Int(info.Env(), 0);
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = iov;
  msg.msg_iovlen = size_t(n);
  ssize_t r = RetryEintr([&] { return sendmsg(fd, &msg, MSG_NOSIGNAL); });
  return Result(info.Env(), long(r));
}

// readv(fd, buffers, index = 0, offset = 0) -> bytes | -errno
static Napi::Value Readv(const Napi::CallbackInfo& info) {
  int32_t fd;
  static thread_local struct iovec iov[IOV_MAX];
  int n = 0;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgIov(info, 1, iov, &n)) return {};
  if (n == 0) return Int(info.Env(), 0);
  ssize_t r = RetryEintr([&] { return readv(fd, iov, n); });
  return Result(info.Env(), long(r));
}

// recvfrom(fd, buf, offset, length, from: object) -> bytes | -errno; sets from.family,
// from.address, from.port.
static Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* p;
  size_t n;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgRange(info, 1, &p, &n)) return {};
  if (!info[4].IsObject()) return Throw(info.Env(), ErrorKind::Type, "from must be an object");
  sockaddr_storage ss;
  ss.ss_family = AF_UNSPEC;  // a connected stream socket leaves the address unset (len 0)
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  ssize_t r = RetryEintr([&] { return recvfrom(fd, p, n, 0, sa, &len); });
  if (r < 0) return Int(info.Env(), -errno);
  Napi::Object from = info[4].As<Napi::Object>();
  Napi::Object addr = AddrToJs(info.Env(), ss, len).As<Napi::Object>();
  // Setters on a user's object may throw: stop at the first pending exception.
  for (const char* key : {"family", "address", "port"}) {
    from.Set(key, addr.Get(key));
    if (info.Env().IsExceptionPending()) return {};
  }
  return Int(info.Env(), r);
}

// sendto(fd, buf, offset, length, family, address, port) -> bytes | -errno (MSG_NOSIGNAL)
static Napi::Value SendTo(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* p;
  size_t n;
  sockaddr_storage ss;
  socklen_t len = 0;
  int err = 0;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgRange(info, 1, &p, &n) ||
      !ArgAddr(info, 4, &ss, &len, &err)) {
    return {};
  }
  if (err) return Int(info.Env(), err);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  ssize_t r = RetryEintr([&] { return sendto(fd, p, n, MSG_NOSIGNAL, sa, len); });
  return Result(info.Env(), long(r));
}

// shutdown(fd, how) -> 0 | -errno
static Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int32_t fd, how;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgInt(info, 1, "how", &how)) return {};
  return Result(info.Env(), shutdown(fd, how));
}

// close(fd) -> 0 | -errno. Detaches a loop attachment on that fd first (libuv must never
// watch a closed fd), and forgets ownership. EINTR is not retried: on Linux the fd is gone.
static Napi::Value Close(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  AddonData* data = GetData(info.Env());
  auto it = data->attachments.find(fd);
  if (it != data->attachments.end()) CloseAttachment(data, it->second);
  int r = close(fd);
  int e = errno;
  if (r == 0 || e == EINTR) data->Disown(fd);
  if (r < 0 && e == EINTR) return Int(info.Env(), 0);
  return Int(info.Env(), r < 0 ? -e : 0);
}

// setNonBlocking(fd) -> 0 | -errno (O_NONBLOCK is shared by every holder of the open file)
static Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Int(info.Env(), -errno);
  if (flags & O_NONBLOCK) return Int(info.Env(), 0);
  return Result(info.Env(), fcntl(fd, F_SETFL, flags | O_NONBLOCK));
}

// setsockopt(fd, level, name, value) -> 0 | -errno (int options only)
static Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name, value;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgInt(info, 1, "level", &level) ||
      !ArgInt(info, 2, "name", &name) || !ArgInt(info, 3, "value", &value)) {
    return {};
  }
  int v = value;
  return Result(info.Env(), setsockopt(fd, level, name, &v, sizeof(v)));
}

// getsockopt(fd, level, name) -> value (>= 0) | -errno (int options only)
static Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgInt(info, 1, "level", &level) ||
      !ArgInt(info, 2, "name", &name)) {
    return {};
  }
  int v = 0;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, name, &v, &len) < 0) return Int(info.Env(), -errno);
  return Int(info.Env(), v);
}

// getsockname(fd) / getpeername(fd) -> { family, address, port } | -errno
static Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return Int(info.Env(), -errno);
  }
  return AddrToJs(info.Env(), ss, len);
}

static Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return Int(info.Env(), -errno);
  }
  return AddrToJs(info.Env(), ss, len);
}


// A new pair of fds (pipe2, socketpair): owned by this environment, handed out in out[0..1].
static Napi::Value OwnPair(Napi::Env env, const int fds[2], int32_t* out) {
  AddonData* data = GetData(env);
  data->Own(fds[0]);
  data->Own(fds[1]);
  out[0] = fds[0];
  out[1] = fds[1];
  return Int(env, 0);
}

// pipe2(out: Int32Array(2)) -> 0 | -errno; out = [readEnd, writeEnd], both non-blocking.
static Napi::Value Pipe2(const Napi::CallbackInfo& info) {
  int32_t* out;
  size_t len;
  if (!ArgInt32Array(info, 0, "out", &out, &len)) return {};
  if (len < 2) return Throw(info.Env(), ErrorKind::Range, "out must hold 2 ints");
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return Int(info.Env(), -errno);
  return OwnPair(info.Env(), fds, out);
}

// eventfd(initval) -> fd | -errno (non-blocking, close-on-exec)
static Napi::Value EventFd(const Napi::CallbackInfo& info) {
  int32_t init;
  if (!ArgInt(info, 0, "initval", &init)) return {};
  if (init < 0) return Throw(info.Env(), ErrorKind::Range, "initval must be >= 0");
  int fd = eventfd(unsigned(init), EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Int(info.Env(), -errno);
  GetData(info.Env())->Own(fd);
  return Int(info.Env(), fd);
}

// eventfdWrite(fd, value) -> 8 | -errno. Safe from any thread: this is the waker's signal.
static Napi::Value EventFdWrite(const Napi::CallbackInfo& info) {
  int32_t fd, value;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgInt(info, 1, "value", &value)) return {};
  if (value <= 0) return Throw(info.Env(), ErrorKind::Range, "value must be > 0");
  uint64_t v = uint64_t(value);
  ssize_t r = RetryEintr([&] { return write(fd, &v, sizeof(v)); });
  return Result(info.Env(), long(r));
}

// eventfdRead(fd) -> counter value | -errno (-EAGAIN when it is zero)
static Napi::Value EventFdRead(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  uint64_t v = 0;
  ssize_t r = RetryEintr([&] { return read(fd, &v, sizeof(v)); });
  if (r < 0) return Int(info.Env(), -errno);
  if (r != sizeof(v)) return Int(info.Env(), -EINVAL);
  return Napi::Number::New(info.Env(), double(v));
}

// poll(fd, events) -> revents | -errno: a readiness check that never blocks, for fds whose
// edge may have been consumed before anyone waited (trampoline).
static Napi::Value Poll(const Napi::CallbackInfo& info) {
  int32_t fd, events;
  if (!ArgFd(info, 0, "fd", &fd) || !ArgInt(info, 1, "events", &events)) return {};
  struct pollfd p = {fd, short(events), 0};
  int r = RetryEintr([&] { return poll(&p, 1, 0); });
  if (r < 0) return Int(info.Env(), -errno);
  if (p.revents & POLLNVAL) return Int(info.Env(), -EBADF);
  return Int(info.Env(), p.revents);
}

// pollMany(entries: Int32Array, count) -> how many are ready | -errno: a readiness check of
// `count` fds at once that never blocks (waitAny). entries holds (fd, events, revents)
// triples; each revents is written (POLLNVAL for an fd that is not open).
static Napi::Value PollMany(const Napi::CallbackInfo& info) {
  int32_t* e;
  size_t len;
  uint64_t count;
  if (!ArgInt32Array(info, 0, "entries", &e, &len) || !ArgSize(info, 1, "count", &count)) return {};
  if (count > len / 3) {
    return Throw(info.Env(), ErrorKind::Range,
                 "entries holds " + std::to_string(len / 3) + " (fd, events, revents) triples, not " +
                     std::to_string(count));
  }
  static thread_local std::vector<struct pollfd> p;
  p.resize(size_t(count));
  for (size_t k = 0; k < count; k++) p[k] = {e[3 * k], short(e[3 * k + 1]), 0};
  int r = RetryEintr([&] { return poll(p.data(), nfds_t(count), 0); });
  if (r < 0) return Int(info.Env(), -errno);
  for (size_t k = 0; k < count; k++) e[3 * k + 2] = p[k].revents;
  return Int(info.Env(), r);
}

// socketpair(type, out: Int32Array(2)) -> 0 | -errno; two connected AF_UNIX sockets,
// non-blocking and close-on-exec.
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int32_t type;
  int32_t* out;
  size_t len;
  if (!ArgInt(info, 0, "type", &type) || !ArgInt32Array(info, 1, "out", &out, &len)) return {};
  if (len < 2) return Throw(info.Env(), ErrorKind::Range, "out must hold 2 ints");
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    return Int(info.Env(), -errno);
  }
  return OwnPair(info.Env(), fds, out);
}

// dup(fd) -> a new fd for the same open file (close-on-exec: F_DUPFD_CLOEXEC) | -errno.
// O_NONBLOCK belongs to the open file, so the copy shares it.
static Napi::Value Dup(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (c < 0) return Int(info.Env(), -errno);
  GetData(info.Env())->Own(c);
  return Int(info.Env(), c);
}

// own(fd) / disown(fd): an fd adopted from elsewhere is closed with this environment.
static Napi::Value OwnFd(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  GetData(info.Env())->Own(fd);
  return Int(info.Env(), 0);
}

static Napi::Value DisownFd(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgFd(info, 0, "fd", &fd)) return {};
  GetData(info.Env())->Disown(fd);
  return Int(info.Env(), 0);
}

// ---- the hot calls: read, write and send of (fd, buf, offset, length) ----
// An echo round trip is one read and one send, so the cost of the crossing itself counts: these
// are raw Node-API callbacks that read their four arguments with four calls, make no wrapper
// objects, and return an int32 (at most 2^30, almost always a V8 Smi). Anything out of the ordinary
// (a wrong type, a fraction, a range outside the buffer) goes to the checked version above,
// which throws the exact TypeError or RangeError.
using Checked = Napi::Value (*)(const Napi::CallbackInfo&);

// Whether d is an integer in [0, max] (false for NaN).
static inline bool WholeUpTo(double d, double max) { return d >= 0 && d <= max && double(int64_t(d)) == d; }

template <Checked Slow, typename Op>
static napi_value FastRange(napi_env env, napi_callback_info cbinfo, Op op) {
  size_t argc = 4;
  napi_value argv[4];
  double fd, off, len;
  napi_typedarray_type type;
  size_t size;
  void* data;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr) == napi_ok && argc >= 4 &&
      napi_get_value_double(env, argv[0], &fd) == napi_ok && WholeUpTo(fd, 2147483647.0) &&
      napi_get_typedarray_info(env, argv[1], &type, &size, &data, nullptr, nullptr) == napi_ok &&
      (type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array) &&
      napi_get_value_double(env, argv[2], &off) == napi_ok &&
      napi_get_value_double(env, argv[3], &len) == napi_ok &&
      WholeUpTo(off, 9007199254740991.0) && WholeUpTo(len, 9007199254740991.0) &&
      off + len <= double(size)) {
    ssize_t r = op(int(fd), static_cast<uint8_t*>(data) + size_t(off), std::min(size_t(len), kMaxIo));
    napi_value out;
    napi_create_int32(env, r < 0 ? -errno : int32_t(r), &out);
    return out;
  }
  Napi::CallbackInfo info(env, cbinfo);
  return Slow(info);
}

static napi_value FastRead(napi_env env, napi_callback_info cbinfo) {
  return FastRange<Read>(env, cbinfo, [](int fd, uint8_t* p, size_t n) {
    return RetryEintr([&] { return read(fd, p, n); });
  });
}

static napi_value FastWrite(napi_env env, napi_callback_info cbinfo) {
  return FastRange<Write>(env, cbinfo, [](int fd, uint8_t* p, size_t n) {
    return NoSigpipe([&] { return write(fd, p, n); });
  });
}

static napi_value FastSend(napi_env env, napi_callback_info cbinfo) {
  return FastRange<Send>(env, cbinfo, [](int fd, uint8_t* p, size_t n) {
    return RetryEintr([&] { return send(fd, p, n, MSG_NOSIGNAL); });
  });
}

void InitSyscalls(Napi::Env env, Napi::Object exports) {
  struct Entry { const char* name; Napi::Function::Callback fn; };
  const Entry entries[] = {
      {"socket", Socket},       {"bind", Bind},
      {"connect", Connect},     {"listen", Listen},
      {"accept4", Accept},      {"readv", Readv},
      {"writev", Writev},       {"recvfrom", RecvFrom},
      {"sendto", SendTo},       {"sendv", Sendv},         {"shutdown", Shutdown},
      {"close", Close},         {"setNonBlocking", SetNonBlocking},
      {"setsockopt", SetSockOpt}, {"getsockopt", GetSockOpt},
      {"getsockname", GetSockName}, {"getpeername", GetPeerName},
      {"pipe2", Pipe2},         {"eventfd", EventFd},
      {"eventfdWrite", EventFdWrite}, {"eventfdRead", EventFdRead},
      {"poll", Poll},           {"pollMany", PollMany},
      {"socketpair", SocketPair}, {"dup", Dup},
      {"own", OwnFd},           {"disown", DisownFd},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  struct RawEntry { const char* name; napi_callback fn; };
  const RawEntry raw[] = {{"read", FastRead}, {"write", FastWrite}, {"send", FastSend}};
  for (const RawEntry& e : raw) {
    napi_value fn;
    if (napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn) == napi_ok) {
      exports.Set(e.name, Napi::Value(env, fn));
    }
  }
}

}  // namespace greenhub
