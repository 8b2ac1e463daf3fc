# The simulated NSM (sim_module: the module as a sans-IO state machine) and
# its local certificate chain (sim_ca); included from src/nsm/CMakeLists.txt.
enclaver_library(enclaver_nsm_sim SOURCES sim_module.cpp sim_ca.cpp DEPS enclaver_nsm enclaver_eif enclaver_cose OpenSSL::Crypto)
