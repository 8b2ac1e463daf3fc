# Every third-party dependency, found once. Static archives are preferred where
# a target must link fully statically (odyn); see enclaver_static_program().
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(LibArchive REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)

if(NOT ENCLAVER_FUZZ)
  find_package(CLI11 REQUIRED)
  find_package(GTest REQUIRED)
  find_package(benchmark REQUIRED)
endif()

# Static archives for fully static programs. Debian ships .a files for these.
find_library(YAML_CPP_STATIC NAMES libyaml-cpp.a REQUIRED)
find_library(IDN2_STATIC NAMES libidn2.a REQUIRED)
find_library(UNISTRING_STATIC NAMES libunistring.a REQUIRED)
# OpenSSL for odyn's TLS termination, linked statically. Whatever links
# enclaver_tls must not also link OpenSSL::SSL/Crypto (two copies).
find_library(OPENSSL_SSL_STATIC NAMES libssl.a REQUIRED)
find_library(OPENSSL_CRYPTO_STATIC NAMES libcrypto.a REQUIRED)
