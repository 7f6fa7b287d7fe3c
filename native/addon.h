// Shared declarations for greenhub's native addon.
//
// The addon says what the kernel said and nothing more: every syscall wrapper returns a count
// or -errno (EAGAIN is a value, not an exception). Only wrong argument *types* throw, as a JS
// TypeError naming the argument; the addon never aborts the process.
#pragma once

#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS 1
#endif
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace greenhub {

struct Attachment;

// Everything one Node environment (the main thread or a worker) owns. Kept as N-API instance
// data so each environment has its own; its cleanup hook closes what is left when the
// environment ends, so a worker that exits leaks no fd.
struct AddonData {
  // fds this environment created through the addon (or adopted), by number. A byte per fd:
  // set on create/accept, cleared on close; cheap enough for the accept path.
  std::vector<uint8_t> owned;
  // Loop attachments by epoll fd.
  std::unordered_map<int, Attachment*> attachments;
  napi_async_cleanup_hook_handle cleanupHandle = nullptr;
  int closingAttachments = 0;
  bool cleaningUp = false;

  void Own(int fd);
  void Disown(int fd);
};

AddonData* GetData(napi_env env);

// ---- errors ----
enum class ErrorKind { Type, Range };

// The one way the addon throws: a TypeError (wrong type) or RangeError (value out of range).
// Keeps an exception already pending (throwing over one is fatal in node-addon-api). Returns
// an empty value, so a callback can `return Throw(...)`.
inline Napi::Value Throw(Napi::Env env, ErrorKind kind, const std::string& msg) {
  if (env.IsExceptionPending()) return Napi::Value();
  if (kind == ErrorKind::Range) Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
  else Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return Napi::Value();
}

// Calls a syscall again while a signal interrupts it (EINTR); returns its last result.
// Not for close() (on Linux the fd is gone after EINTR) nor a timed epoll_wait (it must retry
// with the time that is left).
template <typename F>
inline auto RetryEintr(F f) -> decltype(f()) {
  decltype(f()) r;
  do r = f();
  while (r < 0 && errno == EINTR);
  return r;
}

// ---- argument helpers: each returns false after throwing a TypeError/RangeError ----
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out);
bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out);
// A byte offset, length or index: a non-negative integer up to Number.MAX_SAFE_INTEGER (2^53 - 1),
// so ranges in buffers of 2 GiB and more can be named. Never narrowed to int32.
bool ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);
// A Uint8Array/Buffer (or, with int32 = true, an Int32Array) and a byte range inside it.
bool ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name, uint8_t** data,
              size_t* length);
bool ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t** data,
                   size_t* length);
bool ArgFunction(const Napi::CallbackInfo& info, size_t i, const char* name, Napi::Function* out);

inline Napi::Value Int(Napi::Env env, int64_t v) { return Napi::Number::New(env, double(v)); }
// The count-or-minus-errno convention, in one place.
inline Napi::Value Result(Napi::Env env, long r) { return Int(env, r < 0 ? -errno : r); }

// Registration of each part's exports.
void InitPoller(Napi::Env env, Napi::Object exports);
void InitLoop(Napi::Env env, Napi::Object exports);
void InitSyscalls(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

// Used by the environment cleanup hook (loop.cc).
void CloseAttachment(AddonData* data, Attachment* a);

}  // namespace greenhub
