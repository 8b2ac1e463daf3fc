// COSE_Sign1 pieces shared by attestation documents and EIF signatures
// (src/eif/eif_sign.cpp). See cose.hpp.
#include "nsm/cose.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace enclaver::nsm::cose {

namespace {

using cbor::Value;

struct Free {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

const EVP_MD* digest_for(std::int64_t algorithm) {
  switch (algorithm) {
    case kAlgES256: return EVP_sha256();
    case kAlgES384: return EVP_sha384();
    case kAlgES512: return EVP_sha512();
    default: return nullptr;
  }
}

}  // namespace


std::optional<std::int64_t> Sign1::algorithm() const {
  const Value* alg = protected_header.find_integer(1);
  if (!alg) return std::nullopt;
  return alg->as_int64();
}

Result<Sign1> parse_sign1(std::span<const std::uint8_t> data) {
  cbor::DecodeOptions options;
  options.max_depth = 16;
  auto decoded = cbor::decode(data, options);
  if (!decoded) return make_error("COSE_Sign1: not a CBOR item: " + decoded.error().message);
  Sign1 out;
  const Value* top = &decoded.value();
  if (auto tag = top->tag_number()) {
    if (*tag != kTagSign1) {
      return make_error("COSE_Sign1: tag " + std::to_string(*tag) + " where only tag 18 (COSE_Sign1) or no tag is allowed");
    }
    out.tagged = true;
    top = top->tag_content();
  }
  const cbor::Array* items = top->as_array();
  if (!items) return make_error("COSE_Sign1: expected an array of 4, got a " + std::string(cbor::kind_name(top->kind())));
  if (items->size() != 4) {
    return make_error("COSE_Sign1: expected an array of 4 elements, got " + std::to_string(items->size()));
  }
  const cbor::Bytes* prot = (*items)[0].as_bytes();
  if (!prot) {
    return make_error("COSE_Sign1: the protected header (element 0) must be a byte string, got a " +
                      std::string(cbor::kind_name((*items)[0].kind())));
  }
  out.protected_bytes = *prot;
  if (prot->empty()) {
    out.protected_header = Value::map();
  } else {
    auto header = cbor::decode(*prot, options);
    if (!header) return make_error("COSE_Sign1: the protected header is not CBOR: " + header.error().message);
    if (!header->is(cbor::Kind::Map)) {
      return make_error("COSE_Sign1: the protected header must be a map, got a " +
                        std::string(cbor::kind_name(header->kind())));
    }
    out.protected_header = std::move(header.value());
  }
  if (!(*items)[1].is(cbor::Kind::Map)) {
    return make_error("COSE_Sign1: the unprotected header (element 1) must be a map, got a " +
                      std::string(cbor::kind_name((*items)[1].kind())));
  }
  out.unprotected = (*items)[1];
  const cbor::Bytes* payload = (*items)[2].as_bytes();
  if (!payload) {
    return make_error("COSE_Sign1: the payload (element 2) must be a byte string, got " +
                      std::string((*items)[2].is_null() ? "null (a detached payload)"
                                                        : "a " + std::string(cbor::kind_name((*items)[2].kind()))));
  }
  out.payload = *payload;
  const cbor::Bytes* sig = (*items)[3].as_bytes();
  if (!sig) {
    return make_error("COSE_Sign1: the signature (element 3) must be a byte string, got a " +
                      std::string(cbor::kind_name((*items)[3].kind())));
  }
  out.signature = *sig;
  return out;
}

Bytes protected_header(std::int64_t algorithm) {
  return cbor::encode(Value::map({{Value::unsigned_integer(1), Value::integer(algorithm)}}));
}

Bytes sig_structure(std::span<const std::uint8_t> protected_bytes, std::span<const std::uint8_t> payload) {
  Bytes out;
  out.reserve(payload.size() + protected_bytes.size() + 32);
  cbor::encode_head(out, 4, 4);
  static constexpr char kContext[] = "Signature1";
  cbor::encode_head(out, 3, sizeof kContext - 1);
  out.insert(out.end(), kContext, kContext + sizeof kContext - 1);
  cbor::encode_head(out, 2, protected_bytes.size());
  out.insert(out.end(), protected_bytes.begin(), protected_bytes.end());
  cbor::encode_head(out, 2, 0);
  cbor::encode_head(out, 2, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes encode_sign1(std::span<const std::uint8_t> protected_bytes, std::span<const std::uint8_t> payload,
                   std::span<const std::uint8_t> signature) {
  Bytes out;
  out.reserve(payload.size() + protected_bytes.size() + signature.size() + 16);
  cbor::encode_head(out, 4, 4);
  cbor::encode_head(out, 2, protected_bytes.size());
  out.insert(out.end(), protected_bytes.begin(), protected_bytes.end());
  cbor::encode_head(out, 5, 0);
  cbor::encode_head(out, 2, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
  cbor::encode_head(out, 2, signature.size());
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

std::size_t ecdsa_half_size(std::int64_t algorithm) {
  switch (algorithm) {
    case kAlgES256: return 32;
    case kAlgES384: return 48;
    case kAlgES512: return 66;
    default: return 0;
  }
}

Result<Bytes> raw_to_der(std::span<const std::uint8_t> raw) {
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > 2 * 66) {
    return make_error("a raw ECDSA signature is r || s of equal halves; got " + std::to_string(raw.size()) + " bytes");
  }
  const int n = static_cast<int>(raw.size() / 2);
  Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  Owned<BIGNUM> r(BN_bin2bn(raw.data(), n, nullptr));
  Owned<BIGNUM> s(BN_bin2bn(raw.data() + n, n, nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return make_error("cannot build an ECDSA signature: " + openssl_errors());
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return make_error("cannot encode an ECDSA signature as DER: " + openssl_errors());
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> der_to_raw(std::span<const std::uint8_t> der, std::size_t half_size) {
  const unsigned char* p = der.data();
  Owned<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    ERR_clear_error();
    return make_error("not a DER ECDSA signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes raw(2 * half_size);
  const int n = static_cast<int>(half_size);
  if (BN_bn2binpad(r, raw.data(), n) != n || BN_bn2binpad(s, raw.data() + half_size, n) != n) {
    ERR_clear_error();
    return make_error("an ECDSA signature component does not fit in " + std::to_string(half_size) + " bytes");
  }
  return raw;
}

Result<Bytes> sign_ecdsa(EVP_PKEY* key, std::int64_t algorithm, std::span<const std::uint8_t> tbs) {
  const EVP_MD* md = digest_for(algorithm);
  const std::size_t half = ecdsa_half_size(algorithm);
  if (!md || half == 0) return make_error("unsupported COSE algorithm " + std::to_string(algorithm));
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || (EVP_PKEY_get_bits(key) + 7) / 8 != static_cast<int>(half)) {
    return make_error("the signing key is not an EC key of the algorithm's curve");
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return make_error("EVP_DigestSignInit: " + openssl_errors());
  }
  if (OpenSSL_version_num() >= 0x30200000UL) {
    // RFC 6979 deterministic nonces (OpenSSL 3.2 and later), so that signed
    // EIFs are reproducible there.
    unsigned int deterministic = 1;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_uint("nonce-type", &deterministic), OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_set_params(pctx, params) != 1) ERR_clear_error();
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, tbs.data(), tbs.size()) != 1) {
    return make_error("EVP_DigestSign: " + openssl_errors());
  }
  Bytes der(len);
  if (EVP_DigestSign(ctx.get(), der.data(), &len, tbs.data(), tbs.size()) != 1) {
    return make_error("EVP_DigestSign: " + openssl_errors());
  }
  der.resize(len);
  return der_to_raw(der, half);
}

bool verify_ecdsa(EVP_PKEY* key, std::int64_t algorithm, std::span<const std::uint8_t> tbs,
                  std::span<const std::uint8_t> raw) {
  const EVP_MD* md = digest_for(algorithm);
  const std::size_t half = ecdsa_half_size(algorithm);
  if (!key || !md || half == 0 || raw.size() != 2 * half) return false;
  auto der = raw_to_der(raw);
  if (!der) {
    ERR_clear_error();
    return false;
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), der->data(), der->size(), tbs.data(), tbs.size()) == 1;
  ERR_clear_error();
  return ok;
}

Result<Bytes> sign1(EVP_PKEY* key, std::int64_t algorithm, std::span<const std::uint8_t> payload) {
  const Bytes prot = protected_header(algorithm);
  auto sig = sign_ecdsa(key, algorithm, sig_structure(prot, payload));
  if (!sig) return sig.error();
  return encode_sign1(prot, payload, *sig);
}

}  // namespace enclaver::nsm::cose
