# COSE_Sign1 (enclaver_cose, which EIF signatures in enclaver_eif use too,
# without the verifier) and the attestation library (attestation document
# codec, verifier); included from src/nsm/CMakeLists.txt.
enclaver_library(enclaver_cose SOURCES cose.cpp DEPS enclaver_common enclaver_cbor OpenSSL::Crypto)
enclaver_library(enclaver_attestation SOURCES attestation.cpp verify.cpp
  DEPS enclaver_common enclaver_cbor enclaver_cose OpenSSL::Crypto)
