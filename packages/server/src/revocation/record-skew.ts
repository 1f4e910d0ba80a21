/**
 * Seconds a revocation record outlives the tokens it can affect: verifiers accept a token up to their clock
 * tolerance past its exp, so the record that refuses it must last that much longer. One value for a session's
 * record, a cut-off and a revoked jti.
 */
export const REVOCATION_RECORD_SKEW_S = 60;
