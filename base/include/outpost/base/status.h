// Status and Result: how every Outpost module reports failure.
//
// No exceptions cross a module boundary. A call that can fail returns a [[nodiscard]] Status
// (a code and a human message) or a Result<T> spelled like C++23's std::expected, so that a
// later switch to std::expected is mechanical. Absence is std::optional, not an error.
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace outpost {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is malformed (bad metadata, bad hash, ...)
  kNotFound,         // the thing asked for does not exist
  kAlreadyExists,
  kIoError,          // the operating system refused (permissions, I/O error)
  kNoSpace,          // the disk is full
  kCorrupt,          // stored data does not match its hash or schema
  kBusy,             // another process holds a lock this operation needs
  kChanged,          // an input changed while it was being read
  kDenied,           // who asked may not: wrong password, disabled account, too many attempts
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "no space: writing blobs/ab/cd/...: No space left on device"
  std::string ToString() const;

  // Returns a copy with "context: " put before the message.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
inline Status Denied(std::string m) { return {StatusCode::kDenied, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Status from errno: ENOSPC and EDQUOT become kNoSpace, ENOENT kNotFound, the rest kIoError.
// The message is "what: strerror(err)".
Status ErrnoStatus(const std::string& what, int err);

// Result<T>: a T or a Status that is not ok.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit like std::expected
  Result(Status status) : v_(std::move(status)) {}     // NOLINT
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Status& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace outpost

// Returns early from the enclosing function with the status if it is not ok.
#define OUTPOST_RETURN_IF_ERROR(expr)             \
  do {                                            \
    ::outpost::Status _outpost_st = (expr);       \
    if (!_outpost_st.ok()) return _outpost_st;    \
  } while (0)
