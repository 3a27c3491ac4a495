--[[
  The error codes a Mutation body answers with, {err = Code.NOT_FOUND, msg = ..., field = ...,
  rule = ...} (a field names the rule refused: a short snake_case name, as InvalidField's):
  absl::StatusCode's numbers under the names absl::StatusCodeToString gives them, which are also
  gRPC's. Mutation::Decode (services/common/mutation.cc) turns the number back into that
  absl::StatusCode; tests/common/lua_scripts_test.cc checks every name and number here against
  absl, so the two cannot drift.

  Piece: included by mutation_prelude.lua, so every body sees Code; never run on its own.
]]
local Code = {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}
