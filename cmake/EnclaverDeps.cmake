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
# OpenSSL and zlib are linked statically into every program: odyn (TLS) and
# enclaver-run (the release image's FROM-scratch base) must be fully static,
# and one copy for all keeps a program from ever holding two. Debian ships
# the archives with libssl-dev and zlib1g-dev.
find_library(OPENSSL_SSL_STATIC NAMES libssl.a REQUIRED)
find_library(OPENSSL_CRYPTO_STATIC NAMES libcrypto.a REQUIRED)
find_library(ZLIB_STATIC NAMES libz.a REQUIRED)
# libsecp256k1 (Ethereum identity, recoverable ECDSA): static for odyn.
find_library(SECP256K1_STATIC NAMES libsecp256k1.a REQUIRED)
find_path(SECP256K1_INCLUDE NAMES secp256k1_recovery.h REQUIRED)
add_library(secp256k1::secp256k1 STATIC IMPORTED)
set_target_properties(secp256k1::secp256k1 PROPERTIES IMPORTED_LOCATION ${SECP256K1_STATIC} INTERFACE_INCLUDE_DIRECTORIES ${SECP256K1_INCLUDE})
foreach(lib IN ITEMS "OpenSSL::Crypto;${OPENSSL_CRYPTO_STATIC}" "OpenSSL::SSL;${OPENSSL_SSL_STATIC}" "ZLIB::ZLIB;${ZLIB_STATIC}")
  list(GET lib 0 target)
  list(GET lib 1 archive)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION ${archive} IMPORTED_LOCATION_RELEASE ${archive}
                                             IMPORTED_LOCATION_DEBUG ${archive})
endforeach()
set_property(TARGET OpenSSL::Crypto APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${CMAKE_DL_LIBS} Threads::Threads)
