/**
 * Small NARs ride inside agent messages instead of separate gRPC transfers: an assignment carries
 * some of its inputs (Assignment.input_nars) and a result its outputs (BuildResult.output_nars).
 * For the trivial derivations that dominate a large DAG, the GetNar and AddPath calls cost more
 * CPU on both ends than the builds themselves. The limits keep every message far below NATS's
 * 1 MiB default max payload (a WorkReply may hold several assignments).
 */

/** Largest NAR carried inline. */
export const INLINE_NAR_MAX = 64 * 1024;

/** Most NAR bytes carried inline by one Assignment or one BuildResult. */
export const INLINE_NARS_BUDGET = 256 * 1024;

/** Most NAR bytes carried inline by one WorkReply (all of its assignments together). */
export const INLINE_NARS_REPLY_BUDGET = 512 * 1024;
