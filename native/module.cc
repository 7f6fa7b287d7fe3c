// Module init, per-environment state and argument checking.
#include "addon.h"

#include <unistd.h>

#include <cmath>
#include <string>

namespace greenhub {

void AddonData::Own(int fd) {
  if (fd < 0) return;
  if (size_t(fd) >= owned.size()) owned.resize(size_t(fd) * 2 + 64, 0);
  owned[size_t(fd)] = 1;
}

void AddonData::Disown(int fd) {
  if (fd >= 0 && size_t(fd) < owned.size()) owned[size_t(fd)] = 0;
}

AddonData* GetData(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<AddonData*>(data);
}

// The environment is ending (process exit, or a worker thread that stops). Close every loop
// attachment (uv_close is asynchronous, hence the async cleanup hook: the environment waits
// until the last close callback removes the hook) and every fd this environment owns.
static void EnvCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  data->cleaningUp = true;
  data->cleanupHandle = handle;
  std::vector<Attachment*> all;
  for (auto& kv : data->attachments) all.push_back(kv.second);
  for (Attachment* a : all) CloseAttachment(data, a);
  for (size_t fd = 0; fd < data->owned.size(); fd++) {
    if (data->owned[fd]) close(int(fd));
  }
  data->owned.clear();
  if (data->closingAttachments == 0) {
    data->cleanupHandle = nullptr;
    napi_remove_async_cleanup_hook(handle);
  }
}

static void DeleteData(napi_env, void* data, void*) { delete static_cast<AddonData*>(data); }

// ---- argument helpers ----

static std::string TypeName(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return "an object";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "an unknown value";
}

// The hot calls (read, send) pass three numbers and a buffer: each check below is one Node-API
// call, which fails cleanly (napi_number_expected, napi_invalid_arg) on the wrong type, so no
// separate typeof call is made first.
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out) {
  Napi::Value v = info[i];
  double d;
  if (napi_get_value_double(info.Env(), v, &d) != napi_ok) {
    Throw(info.Env(), ErrorKind::Type,
          std::string(name) + " must be an integer, got " + TypeName(v));
    return false;
  }
  if (!(std::trunc(d) == d) || d < -2147483648.0 || d > 2147483647.0) {
    Throw(info.Env(), ErrorKind::Range,
          std::string(name) + " must be a 32-bit integer, got " + std::to_string(d));
    return false;
  }
  *out = int32_t(d);
  return true;
}

bool ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  Napi::Value v = info[i];
  double d;
  if (napi_get_value_double(info.Env(), v, &d) != napi_ok) {
    Throw(info.Env(), ErrorKind::Type,
          std::string(name) + " must be an integer, got " + TypeName(v));
    return false;
  }
  // The negated test also catches NaN. 9007199254740991 is Number.MAX_SAFE_INTEGER.
  if (!(std::trunc(d) == d && d >= 0 && d <= 9007199254740991.0)) {
    // Number's own ToString ("1.5", "NaN", "-1", "Infinity") names what was got exactly.
    std::string got = v.ToString().Utf8Value();
    Throw(info.Env(), ErrorKind::Range,
          std::string(name) + " must be a non-negative integer no larger than " +
              "Number.MAX_SAFE_INTEGER, got " + got);
    return false;
  }
  *out = uint64_t(d);
  return true;
}

bool ArgFd(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out) {
  if (!ArgInt(info, i, name, out)) return false;
  if (*out < 0) {
    Throw(info.Env(), ErrorKind::Range,
          std::string(name) + " must be a non-negative fd, got " + std::to_string(*out));
    return false;
  }
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  Napi::Value v = info[i];
  if (!v.IsString()) {
    Throw(info.Env(), ErrorKind::Type, std::string(name) + " must be a string, got " + TypeName(v));
    return false;
  }
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

bool ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name, uint8_t** data,
              size_t* length) {
  napi_value v = info[i];
  napi_typedarray_type type;
  size_t len = 0;
  void* ptr = nullptr;
  // Not a typed array: napi_invalid_arg, nothing thrown yet.
  if (napi_get_typedarray_info(info.Env(), v, &type, &len, &ptr, nullptr, nullptr) == napi_ok &&
      (type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array)) {
    *data = static_cast<uint8_t*>(ptr);
    *length = len;
    return true;
  }
  Throw(info.Env(), ErrorKind::Type,
        std::string(name) + " must be a Buffer or Uint8Array, got " + TypeName(info[i]));
  return false;
}

bool ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t** data,
                   size_t* length) {
  napi_value v = info[i];
  bool is = false;
  napi_is_typedarray(info.Env(), v, &is);
  if (is) {
    napi_typedarray_type type;
    size_t len = 0;
    void* ptr = nullptr;
    napi_get_typedarray_info(info.Env(), v, &type, &len, &ptr, nullptr, nullptr);
    if (type == napi_int32_array) {
      *data = static_cast<int32_t*>(ptr);
      *length = len;
      return true;
    }
  }
  Throw(info.Env(), ErrorKind::Type,
        std::string(name) + " must be an Int32Array, got " + TypeName(info[i]));
  return false;
}

bool ArgFunction(const Napi::CallbackInfo& info, size_t i, const char* name,
                 Napi::Function* out) {
  Napi::Value v = info[i];
  if (!v.IsFunction()) {
    Throw(info.Env(), ErrorKind::Type,
          std::string(name) + " must be a function, got " + TypeName(v));
    return false;
  }
  *out = v.As<Napi::Function>();
  return true;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  napi_set_instance_data(env, data, DeleteData, nullptr);
  napi_async_cleanup_hook_handle handle = nullptr;
  napi_add_async_cleanup_hook(env, EnvCleanup, data, &handle);
  InitPoller(env, exports);
  InitLoop(env, exports);
  InitSyscalls(env, exports);
  InitConstants(env, exports);
  return exports;
}

}  // namespace greenhub

static Napi::Object InitGreenhub(Napi::Env env, Napi::Object exports) {
  return greenhub::Init(env, exports);
}

NODE_API_MODULE(greenhub, InitGreenhub)
