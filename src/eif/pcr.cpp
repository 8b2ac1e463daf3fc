#include "eif/pcr.hpp"

#include <openssl/evp.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

namespace enclaver::eif {

namespace {

[[noreturn]] void openssl_failure(const char* what) {
  throw std::runtime_error(std::string("SHA-384: OpenSSL ") + what + " failed (out of memory?)");
}

}  // namespace

// --- Sha384 -----------------------------------------------------------------

Sha384::Sha384() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) openssl_failure("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(ctx_, EVP_sha384(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    openssl_failure("EVP_DigestInit_ex");
  }
}

Sha384::~Sha384() { EVP_MD_CTX_free(ctx_); }

Sha384::Sha384(Sha384&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha384& Sha384::operator=(Sha384&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void Sha384::update(std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) openssl_failure("EVP_DigestUpdate");
}

Digest Sha384::finish() {
  Digest d{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, d.data(), &len) != 1 || len != d.size()) openssl_failure("EVP_DigestFinal_ex");
  if (EVP_DigestInit_ex(ctx_, EVP_sha384(), nullptr) != 1) openssl_failure("EVP_DigestInit_ex");
  return d;
}

Digest Sha384::peek() const { return clone().finish(); }

Sha384 Sha384::clone() const {
  Sha384 copy;
  if (EVP_MD_CTX_copy_ex(copy.ctx_, ctx_) != 1) openssl_failure("EVP_MD_CTX_copy_ex");
  return copy;
}

Digest sha384(std::span<const std::uint8_t> data) {
  Sha384 h;
  h.update(data);
  return h.finish();
}

Digest pcr_extend(const Digest& pcr, std::span<const std::uint8_t> data) {
  Sha384 h;
  h.update(pcr);
  h.update(data);
  return h.finish();
}

Digest pcr_from_content_digest(const Digest& content_digest) { return pcr_extend(Digest{}, content_digest); }

Digest pcr_of(std::span<const std::uint8_t> measured) { return pcr_from_content_digest(sha384(measured)); }

std::optional<Digest> digest_from_hex(std::string_view hex) {
  if (hex.size() != 2 * kDigestSize) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Digest d{};
  for (std::size_t i = 0; i < kDigestSize; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return d;
}

// --- SectionHasher ----------------------------------------------------------

namespace {

// Below this size an update is done on the calling thread alone: handing it
// to the worker would cost more than it saves.
constexpr std::size_t kParallelThreshold = 64 * 1024;

// One worker thread that runs one job at a time for the calling thread.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      job_ = std::move(job);
      busy_ = true;
    }
    cv_.notify_all();
  }

  // Waits for the job; returns its exception, if any.
  std::exception_ptr wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return !busy_; });
    return std::exchange(error_, nullptr);
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || (busy_ && job_); });
      if (busy_ && job_) {
        auto job = std::exchange(job_, nullptr);
        lock.unlock();
        std::exception_ptr error;
        try {
          job();
        } catch (...) {
          error = std::current_exception();
        }
        lock.lock();
        error_ = error;
        busy_ = false;
        cv_.notify_all();
        continue;
      }
      if (stop_) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool busy_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts after the members it uses exist
};

enum class Role {
  Bootstrap,    // kernel, cmdline, first ramdisk: M0 and M1
  Application,  // later ramdisks: M0 and M2
  Unmeasured,   // metadata, signature, anything else: CRC only
};

}  // namespace

struct SectionHasher::Impl {
  bool parallel;
  Sha384 m0;                 // PCR0 content; also PCR1 content while `shared`
  std::optional<Sha384> m1;  // PCR1 content once it diverged from m0
  Sha384 m2;                 // PCR2 content
  bool shared = true;        // M0 == M1 so far (no application ramdisk yet)
  int ramdisks = 0;
  bool in_section = false;
  Role role = Role::Unmeasured;
  std::uint32_t crc = 0;
  std::unique_ptr<Worker> worker;

  explicit Impl(bool p) : parallel(p) {}

  // The work on `data` other than m0's: the CRC and the second digest.
  void secondary(std::span<const std::uint8_t> data) {
    crc = crc_update(crc, data);
    if (role == Role::Bootstrap && !shared) m1->update(data);
    if (role == Role::Application) m2.update(data);
  }

  void primary(std::span<const std::uint8_t> data) {
    if (role != Role::Unmeasured) m0.update(data);
  }
};

SectionHasher::SectionHasher(bool parallel) : impl_(std::make_unique<Impl>(parallel)) {}
SectionHasher::~SectionHasher() = default;

void SectionHasher::begin_section(SectionType type) {
  Impl& s = *impl_;
  if (s.in_section) throw std::logic_error("SectionHasher: begin_section() inside a section");
  s.in_section = true;
  s.crc = 0;
  switch (type) {
    case SectionType::Kernel:
    case SectionType::Cmdline: s.role = Role::Bootstrap; break;
    case SectionType::Ramdisk:
      s.role = s.ramdisks == 0 ? Role::Bootstrap : Role::Application;
      ++s.ramdisks;
      break;
    default: s.role = Role::Unmeasured; break;
  }
  if (s.role == Role::Application && s.shared) {
    // M0 and M1 part here: M1 keeps what was hashed so far.
    s.m1 = s.m0.clone();
    s.shared = false;
  }
}

void SectionHasher::update(std::span<const std::uint8_t> data, const std::function<void()>& alongside) {
  Impl& s = *impl_;
  if (!s.in_section) throw std::logic_error("SectionHasher: update() outside a section");
  if (s.parallel && !s.worker && data.size() >= kParallelThreshold) {
    try {
      s.worker = std::make_unique<Worker>();
    } catch (const std::system_error&) {
      s.parallel = false;  // no thread to be had: hash on this one
    }
  }
  if (!s.parallel || data.size() < kParallelThreshold) {
    s.primary(data);
    s.secondary(data);
    if (alongside) alongside();
    return;
  }
  s.worker->start([&s, data] { s.secondary(data); });
  std::exception_ptr error;
  try {
    if (alongside) alongside();
    s.primary(data);
  } catch (...) {
    error = std::current_exception();
  }
  // Always wait: the worker reads `data`, which the caller frees on return.
  std::exception_ptr worker_error = s.worker->wait();
  if (error) std::rethrow_exception(error);
  if (worker_error) std::rethrow_exception(worker_error);
}

std::uint32_t SectionHasher::end_section() {
  Impl& s = *impl_;
  if (!s.in_section) throw std::logic_error("SectionHasher: end_section() outside a section");
  s.in_section = false;
  return s.crc;
}

Measurements SectionHasher::measurements() const {
  const Impl& s = *impl_;
  Measurements m;
  m.pcr0 = pcr_from_content_digest(s.m0.peek());
  m.pcr1 = s.shared ? m.pcr0 : pcr_from_content_digest(s.m1->peek());
  m.pcr2 = pcr_from_content_digest(s.m2.peek());
  return m;
}

}  // namespace enclaver::eif
