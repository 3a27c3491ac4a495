#pragma once

// Pairings (师徒结对, 双导师, 城乡结对): create one or a batch, end, read, list. Every refusal
// writes nothing; the rules (rules.h) decide, and the store's script rechecks the mentor's
// capacity and the mentee's slot atomically.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/mentorship/context.h"
#include "shidang/mentorship/v1/mentorship.pb.h"

namespace shidang::mentorship {

absl::Status CreatePairing(Deps& deps, const CallContext& call, const v1::CreatePairingRequest& req,
                           v1::CreatePairingResponse* resp);
absl::Status CreatePairings(Deps& deps, const CallContext& call,
                            const v1::CreatePairingsRequest& req, v1::CreatePairingsResponse* resp);
absl::Status EndPairing(Deps& deps, const CallContext& call, const v1::EndPairingRequest& req,
                        v1::EndPairingResponse* resp);
absl::Status GetPairing(Deps& deps, const CallContext& call, const v1::GetPairingRequest& req,
                        v1::GetPairingResponse* resp);
absl::Status ListPairings(Deps& deps, const CallContext& call, const v1::ListPairingsRequest& req,
                          v1::ListPairingsResponse* resp);
absl::Status ListTeacherPairings(Deps& deps, const CallContext& call,
                                 const v1::ListTeacherPairingsRequest& req,
                                 v1::ListTeacherPairingsResponse* resp);

// A pairing the caller may read, by id (NOT_FOUND / PERMISSION_DENIED otherwise; a caller who
// may not read it learns nothing of whether it exists).
absl::StatusOr<v1::Pairing> ReadablePairing(Deps& deps, const common::v1::Principal& p,
                                            absl::string_view pairing_id);

}  // namespace shidang::mentorship
