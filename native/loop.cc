// Attachment of a poller to Node's own event loop.
//
// A uv_poll_t watches the epoll fd itself (an epoll fd is readable while it holds ready events).
// On readiness the addon drains with epoll_wait(..., 0) into the poller's shared Int32Array and
// makes ONE JS call for the whole batch, through napi_make_callback so that nextTicks and
// microtasks run after it. No helper thread, and the JS thread never blocks in epoll_wait here.
//
// One uv_timer_t per attachment carries the hub's earliest deadline; re-arming it is no syscall.
// Both handles hold the process open only while JS says so (pollRef / timerStart's ref flag):
// the keep-alive policy lives in the hub, not here.
#include "addon.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace greenhub {

// Whether fd is an epoll instance. uv_poll_init would otherwise make any fd (a user's stdin,
// say) non-blocking, and libuv aborts if the fd it watches cannot be watched.
static bool IsEpollFd(int fd) {
  char path[64], target[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = 0;
  return std::string(target) == "anon_inode:[eventpoll]";
}

int DrainEpoll(int epfd, int32_t* out, size_t maxEvents, int timeoutMs);

struct Attachment {
  napi_env env = nullptr;
  AddonData* data = nullptr;
  int epfd = -1;
  uv_poll_t poll;
  uv_timer_t timer;
  napi_ref events = nullptr;    // the Int32Array the batch is drained into
  napi_ref onEvents = nullptr;  // called with the batch's count (or -errno)
  napi_ref onTimer = nullptr;   // called with no arguments
  napi_async_context context = nullptr;
  int pendingCloses = 0;
  bool closing = false;
};

// Calls fn(args) as a top-level callback. An exception it throws is not lost: it goes to
// napi_fatal_exception, i.e. process 'uncaughtException', like any exception thrown by a
// callback of Node's own.
static void CallBack(Attachment* a, napi_ref fnRef, size_t argc, napi_value* argv) {
  napi_env env = a->env;
  napi_value fn, global, result;
  if (napi_get_reference_value(env, fnRef, &fn) != napi_ok || fn == nullptr) return;
  napi_get_global(env, &global);
  napi_status s = napi_make_callback(env, a->context, global, fn, argc, argv, &result);
  if (s != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
}

static void OnPoll(uv_poll_t* handle, int status, int) {
  auto* a = static_cast<Attachment*>(handle->data);
  if (a->closing) return;
  napi_env env = a->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  // The buffer is looked up per batch, not cached: if JS ever detached or replaced its backing
  // store, a cached pointer would dangle.
  napi_value arr;
  int32_t* out = nullptr;
  size_t len = 0;
  if (napi_get_reference_value(env, a->events, &arr) == napi_ok && arr != nullptr) {
    napi_typedarray_type type;
    void* ptr = nullptr;
    if (napi_get_typedarray_info(env, arr, &type, &len, &ptr, nullptr, nullptr) == napi_ok &&
        type == napi_int32_array) {
      out = static_cast<int32_t*>(ptr);
    }
  }
  int n = status < 0 ? status : (out && len >= 3 ? DrainEpoll(a->epfd, out, len / 3, 0) : 0);
  if (n != 0) {
    napi_value arg;
    napi_create_int32(env, n, &arg);
    CallBack(a, a->onEvents, 1, &arg);
  }
  napi_close_handle_scope(env, scope);
}

static void OnTimer(uv_timer_t* handle) {
  auto* a = static_cast<Attachment*>(handle->data);
  if (a->closing) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(a->env, &scope) != napi_ok) return;
  CallBack(a, a->onTimer, 0, nullptr);
  napi_close_handle_scope(a->env, scope);
}

static void OnClosed(uv_handle_t* handle) {
  auto* a = static_cast<Attachment*>(handle->data);
  if (--a->pendingCloses > 0) return;
  AddonData* data = a->data;
  delete a;
  data->closingAttachments--;
  if (data->cleaningUp && data->closingAttachments == 0 && data->cleanupHandle != nullptr) {
    napi_async_cleanup_hook_handle h = data->cleanupHandle;
    data->cleanupHandle = nullptr;
    napi_remove_async_cleanup_hook(h);
  }
}

void CloseAttachment(AddonData* data, Attachment* a) {
  if (a->closing) return;
  a->closing = true;
  data->attachments.erase(a->epfd);
  napi_delete_reference(a->env, a->events);
  napi_delete_reference(a->env, a->onEvents);
  napi_delete_reference(a->env, a->onTimer);
  napi_async_destroy(a->env, a->context);
  a->pendingCloses = 2;
  data->closingAttachments++;
  uv_close(reinterpret_cast<uv_handle_t*>(&a->poll), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&a->timer), OnClosed);
}

static Attachment* Find(const Napi::CallbackInfo& info, int32_t* epfd) {
  if (!ArgFd(info, 0, "epfd", epfd)) return nullptr;
  auto& m = GetData(info.Env())->attachments;
  auto it = m.find(*epfd);
  return it == m.end() ? nullptr : it->second;
}

// attach(epfd, events: Int32Array, onEvents(count), onTimer()) -> 0 | -errno
// (-EEXIST when this epoll fd is already attached).
static Napi::Value Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t epfd;
  int32_t* out;
  size_t len;
  Napi::Function onEvents, onTimer;
  if (!ArgFd(info, 0, "epfd", &epfd) || !ArgInt32Array(info, 1, "events", &out, &len) ||
      !ArgFunction(info, 2, "onEvents", &onEvents) ||
      !ArgFunction(info, 3, "onTimer", &onTimer)) {
    return Napi::Value();
  }
  if (len < 3) {
    return Throw(env, ErrorKind::Range, "events buffer must hold at least one event (3 ints)");
  }
  AddonData* data = GetData(env);
  if (data->attachments.count(epfd)) return Int(env, -EEXIST);
  if (fcntl(epfd, F_GETFD) < 0) return Int(env, -EBADF);
  if (!IsEpollFd(epfd)) return Int(env, -EINVAL);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Int(env, -EINVAL);

  auto* a = new Attachment();
  a->env = env;
  a->data = data;
  a->epfd = epfd;
  int r = uv_poll_init(loop, &a->poll, epfd);
  if (r < 0) {
    delete a;
    return Int(env, r);  // libuv errors are -errno on Linux
  }
  uv_timer_init(loop, &a->timer);
  a->poll.data = a;
  a->timer.data = a;
  napi_create_reference(env, info[1], 1, &a->events);
  napi_create_reference(env, onEvents, 1, &a->onEvents);
  napi_create_reference(env, onTimer, 1, &a->onTimer);
  napi_async_init(env, nullptr, Napi::String::New(env, "greenhub:poller"), &a->context);
  data->attachments[epfd] = a;
  uv_poll_start(&a->poll, UV_READABLE, OnPoll);
  uv_unref(reinterpret_cast<uv_handle_t*>(&a->poll));
  uv_unref(reinterpret_cast<uv_handle_t*>(&a->timer));
  return Int(env, 0);
}

// detach(epfd) -> 0 | -ENOENT. Safe to call from inside the attachment's own callbacks.
static Napi::Value Detach(const Napi::CallbackInfo& info) {
  int32_t epfd;
  Attachment* a = Find(info, &epfd);
  if (info.Env().IsExceptionPending()) return Napi::Value();
  if (!a) return Int(info.Env(), -ENOENT);
  CloseAttachment(GetData(info.Env()), a);
  return Int(info.Env(), 0);
}

// pollRef(epfd, ref: boolean) -> 0 | -ENOENT: whether the epoll watch holds the process open.
static Napi::Value PollRef(const Napi::CallbackInfo& info) {
  int32_t epfd;
  Attachment* a = Find(info, &epfd);
  if (info.Env().IsExceptionPending()) return Napi::Value();
  if (!a) return Int(info.Env(), -ENOENT);
  auto* h = reinterpret_cast<uv_handle_t*>(&a->poll);
  if (info[1].ToBoolean().Value()) uv_ref(h); else uv_unref(h);
  return Int(info.Env(), 0);
}

// timerStart(epfd, ms, ref: boolean) -> 0 | -ENOENT. Fires onTimer once after ms (libuv's
// cached clock: it may fire a little early; the hub checks its own clock).
static Napi::Value TimerStart(const Napi::CallbackInfo& info) {
  int32_t epfd, ms;
  Attachment* a = Find(info, &epfd);
  if (info.Env().IsExceptionPending()) return Napi::Value();
  if (!ArgInt(info, 1, "ms", &ms)) return Napi::Value();
  if (!a) return Int(info.Env(), -ENOENT);
  if (ms < 0) ms = 0;
  uv_timer_start(&a->timer, OnTimer, uint64_t(ms), 0);
  auto* h = reinterpret_cast<uv_handle_t*>(&a->timer);
  if (info[2].ToBoolean().Value()) uv_ref(h); else uv_unref(h);
  return Int(info.Env(), 0);
}

// timerStop(epfd) -> 0 | -ENOENT.
static Napi::Value TimerStop(const Napi::CallbackInfo& info) {
  int32_t epfd;
  Attachment* a = Find(info, &epfd);
  if (info.Env().IsExceptionPending()) return Napi::Value();
  if (!a) return Int(info.Env(), -ENOENT);
  uv_timer_stop(&a->timer);
  return Int(info.Env(), 0);
}

void InitLoop(Napi::Env env, Napi::Object exports) {
  exports.Set("attach", Napi::Function::New(env, Attach, "attach"));
  exports.Set("detach", Napi::Function::New(env, Detach, "detach"));
  exports.Set("pollRef", Napi::Function::New(env, PollRef, "pollRef"));
  exports.Set("timerStart", Napi::Function::New(env, TimerStart, "timerStart"));
  exports.Set("timerStop", Napi::Function::New(env, TimerStop, "timerStop"));
}

}  // namespace greenhub
