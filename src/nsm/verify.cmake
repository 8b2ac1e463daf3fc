# The attestation library (COSE_Sign1, attestation document codec, verifier);
# included from src/nsm/CMakeLists.txt.
enclaver_library(enclaver_attestation SOURCES cose.cpp attestation.cpp verify.cpp
  DEPS enclaver_common enclaver_cbor OpenSSL::Crypto)
