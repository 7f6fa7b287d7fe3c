// The poller: epoll create/ctl/wait, nothing else.
//
// Readiness model (mio's): the hub registers each fd once, edge-triggered, for IN|OUT|RDHUP, and
// never calls epoll_ctl again on the hot path; it drains each fd until it would block. Beside
// the fd, epoll_event.data carries a 32-bit token (the hub's generation number for that fd), so
// an event queued for a closed fd is recognised and dropped when a new fd gets the same number.
//
// Ready events are written into an Int32Array shared with JS as triples (fd, token, events);
// the call returns how many triples it wrote. No allocation, no JS call per event.
#include "addon.h"

#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace greenhub {

static constexpr size_t kMaxBatch = 1024;

static int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Drains up to `maxEvents` ready events into `out`; retries EINTR with the time that is left.
int DrainEpoll(int epfd, int32_t* out, size_t maxEvents, int timeoutMs) {
  struct epoll_event events[kMaxBatch];
  if (maxEvents > kMaxBatch) maxEvents = kMaxBatch;
  int64_t deadline = timeoutMs > 0 ? NowMs() + timeoutMs : 0;
  int n;
  for (;;) {  // not RetryEintr: each retry waits only for the time that is left
    n = epoll_wait(epfd, events, int(maxEvents), timeoutMs);
    if (n >= 0 || errno != EINTR) break;
    if (timeoutMs > 0) {
      int64_t left = deadline - NowMs();
      timeoutMs = left > 0 ? int(left) : 0;
    }
  }
  if (n < 0) return -errno;
  for (int i = 0; i < n; i++) {
    uint64_t d = events[i].data.u64;
    out[3 * i] = int32_t(uint32_t(d & 0xffffffffu));
    out[3 * i + 1] = int32_t(uint32_t(d >> 32));
    out[3 * i + 2] = int32_t(events[i].events);
  }
  return n;
}

// epollCreate() -> epoll fd | -errno. Close-on-exec, owned by this environment.
static Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return Int(info.Env(), -errno);
  GetData(info.Env())->Own(fd);
  return Int(info.Env(), fd);
}

// epollCtl(epfd, op, fd, events, token) -> 0 | -errno.
static Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  int32_t epfd, op, fd, events, token;
  if (!ArgFd(info, 0, "epfd", &epfd) || !ArgInt(info, 1, "op", &op) ||
      !ArgFd(info, 2, "fd", &fd) || !ArgInt(info, 3, "events", &events) ||
      !ArgInt(info, 4, "token", &token)) {
    return Napi::Value();
  }
  struct epoll_event ev = {};
  ev.events = uint32_t(events);
  ev.data.u64 = (uint64_t(uint32_t(token)) << 32) | uint64_t(uint32_t(fd));
  int r = epoll_ctl(epfd, op, fd, &ev);
  return Result(info.Env(), r);
}

// epollWait(epfd, out: Int32Array, timeoutMs) -> count | -errno. Blocks the thread when
// timeoutMs != 0: the hub only ever passes 0; the public Poller.wait passes what its user asked.
static Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  int32_t epfd, timeout;
  int32_t* out;
  size_t len;
  if (!ArgFd(info, 0, "epfd", &epfd) || !ArgInt32Array(info, 1, "events", &out, &len) ||
      !ArgInt(info, 2, "timeoutMs", &timeout)) {
    return Napi::Value();
  }
  if (len < 3) {
    return Throw(info.Env(), ErrorKind::Range,
                 "events buffer must hold at least one event (3 ints)");
  }
  if (timeout < -1) {
    return Throw(info.Env(), ErrorKind::Range, "timeoutMs must be -1 (forever) or >= 0");
  }
  return Int(info.Env(), DrainEpoll(epfd, out, len / 3, timeout));
}

void InitPoller(Napi::Env env, Napi::Object exports) {
  exports.Set("epollCreate", Napi::Function::New(env, EpollCreate, "epollCreate"));
  exports.Set("epollCtl", Napi::Function::New(env, EpollCtl, "epollCtl"));
  exports.Set("epollWait", Napi::Function::New(env, EpollWait, "epollWait"));
}

}  // namespace greenhub
