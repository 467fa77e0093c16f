/**
 * NATS subjects and JetStream streams of the agent protocol (docs/architecture.md). One place,
 * so the coordinator and the agent — which never import each other — agree by construction.
 */
export const SUBJECTS = {
  register: 'farm.agent.register',
  heartbeat: 'farm.agent.heartbeat',
  workRequest: 'farm.work.request',
  control: (agentId: string): string => `farm.agent.${token(agentId)}.control`,
  results: (agentId: string): string => `farm.results.${token(agentId)}`,
  logs: (jobId: string): string => `farm.logs.${token(jobId)}`,
} as const;

export const STREAMS = {
  results: { name: 'FARM_RESULTS', subjects: ['farm.results.>'] },
  logs: { name: 'FARM_LOGS', subjects: ['farm.logs.>'] },
} as const;

/** The JetStream message id of a result: duplicates of one (job, epoch) are dropped by the server. */
export function resultMessageId(jobId: string, epoch: number | bigint | string): string {
  return `${jobId}:${epoch}`;
}

/** A subject token must not contain separators or wildcards; ids are generated, so this only guards bugs. */
function token(id: string): string {
  if (id === '' || /[\s.*>]/.test(id)) throw new Error(`'${id}' cannot be used in a NATS subject`);
  return id;
}
