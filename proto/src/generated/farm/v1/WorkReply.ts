// Original file: farm/v1/agent.proto

import type { Assignment as _farm_v1_Assignment, Assignment__Output as _farm_v1_Assignment__Output } from '../../farm/v1/Assignment.js';

export interface WorkReply {
  'assignments'?: (_farm_v1_Assignment)[];
}

export interface WorkReply__Output {
  'assignments': (_farm_v1_Assignment__Output)[];
}
