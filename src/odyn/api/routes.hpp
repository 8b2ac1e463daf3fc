// The two routers over one Services object (api.md):
//   - internal_router: every endpoint of the internal API;
//   - aux_router: its own, much smaller table (address, encryption public
//     key, attestation with only the nonce honoured). It is not a filter in
//     front of the internal router, so no path trick can reach an endpoint it
//     does not list: a path it lacks is 404 whatever the internal API has.
// Error statuses: 400 for the client's input (the decoders' reasons, and
// "decryption failed"), 503 when the NSM fails.
#pragma once

#include <memory>

#include "http/router.hpp"
#include "odyn/api/services.hpp"

namespace enclaver::odyn::api {

std::shared_ptr<const http::Router> internal_router(std::shared_ptr<Services> services);
std::shared_ptr<const http::Router> aux_router(std::shared_ptr<Services> services);

}  // namespace enclaver::odyn::api
